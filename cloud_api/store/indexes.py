"""Every collection's indexes, created at start-up (idempotent), and their usage."""

from __future__ import annotations

from typing import Any

import mongomock
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.database import Database

INDEXES: dict[str, list[IndexModel]] = {
    "users": [IndexModel([("email", ASCENDING)], unique=True, name="email_unique")],
    "devices": [
        IndexModel([("token_hash", ASCENDING)], unique=True, name="token_hash_unique"),
        IndexModel([("studio_id", ASCENDING), ("created_at", DESCENDING)], name="studio_created"),
    ],
    "refresh_tokens": [
        IndexModel([("family", ASCENDING)], name="family"),
        # expired refresh tokens disappear on their own
        IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expires_ttl"),
    ],
    # login sessions signed out or revoked: access tokens naming them are refused
    "revoked_sessions": [
        IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expires_ttl"),
    ],
    "lead_consents": [IndexModel([("lead_id", ASCENDING)], name="lead")],
    "leads": [
        IndexModel(
            [("studio_id", ASCENDING), ("email_hash", ASCENDING)],
            unique=True,
            name="studio_email_unique",
        ),
        # the dashboard lists consenting leads only; withdrawn ones stay out of the index
        IndexModel(
            [("studio_id", ASCENDING), ("created_at", DESCENDING)],
            partialFilterExpression={"consent": True},
            name="studio_consenting_by_time",
        ),
        # the dashboard's campaign filter
        IndexModel(
            [("studio_id", ASCENDING), ("campaign", ASCENDING), ("created_at", DESCENDING)],
            name="studio_campaign_time",
        ),
    ],
    "lead_receipts": [
        IndexModel([("lead_id", ASCENDING)], name="lead"),
        # deliveries go only to leads the sending device recorded recently
        IndexModel(
            [("lead_id", ASCENDING), ("device_id", ASCENDING), ("recorded_at", DESCENDING)],
            name="lead_device_time",
        ),
        IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expires_ttl"),
    ],
    "events": [
        IndexModel([("studio_id", ASCENDING), ("ts", DESCENDING)], name="studio_time"),
        IndexModel(
            [("studio_id", ASCENDING), ("name", ASCENDING), ("day", ASCENDING)],
            name="studio_name_day",
        ),
        # the per-campaign funnel
        IndexModel(
            [("studio_id", ASCENDING), ("campaign", ASCENDING), ("name", ASCENDING)],
            name="studio_campaign_name",
        ),
    ],
    "shares": [
        # the public page finds a share by its token's hash, nothing else
        IndexModel([("token_hash", ASCENDING)], unique=True, name="token_hash_unique"),
        IndexModel([("studio_id", ASCENDING), ("created_at", DESCENDING)], name="studio_time"),
        IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expires_ttl"),
    ],
    "webhook_deliveries": [
        IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="due"),
        IndexModel([("studio_id", ASCENDING), ("created_at", DESCENDING)], name="studio_time"),
        IndexModel([("lead_id", ASCENDING)], name="lead"),  # GDPR export and erasure
        IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expires_ttl"),
    ],
    "uploads": [IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expires_ttl")],
    "renders": [
        IndexModel([("studio_id", ASCENDING), ("created_at", DESCENDING)], name="studio_created"),
        IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expires_ttl"),
    ],
    # cloud renders (store/render_jobs.py)
    "render_uploads": [
        IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expires_ttl"),
    ],
    "render_jobs": [
        IndexModel(
            [("studio_id", ASCENDING), ("client_request_id", ASCENDING)],
            unique=True,
            name="studio_request_unique",
        ),
        # the fair claim and the queue depth read queued jobs oldest first
        IndexModel([("status", ASCENDING), ("created_at", ASCENDING)], name="status_created"),
        IndexModel([("message_id", ASCENDING)], sparse=True, name="message"),
        # only finished jobs carry expires_at: they (not queued ones) disappear
        IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="finished_ttl"),
    ],
    "deliveries": [
        IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="due"),
        IndexModel([("lead_id", ASCENDING)], name="lead"),
        # the hourly and daily delivery caps per device and per studio count these
        IndexModel([("device_id", ASCENDING), ("created_at", DESCENDING)], name="device_time"),
        IndexModel([("studio_id", ASCENDING), ("created_at", DESCENDING)], name="studio_time"),
    ],
    "audit": [IndexModel([("studio_id", ASCENDING), ("at", DESCENDING)], name="studio_time")],
}


def ensure_indexes(db: Database) -> None:
    for collection, models in INDEXES.items():
        for model in models:
            # one create_index per index: mongomock's create_indexes drops partial filters
            spec = dict(model.document)
            keys = list(spec.pop("key").items())
            db[collection].create_index(keys, **spec)


def index_usage(db: Database) -> list[dict[str, Any]]:
    """One row per index: its keys and options, plus usage counts where the server keeps
    them (`$indexStats`; the embedded store does not, so `ops` is None there)."""
    rows: list[dict[str, Any]] = []
    embedded = isinstance(db.client, mongomock.MongoClient)
    for collection in INDEXES:
        usage: dict[str, dict[str, Any]] = {}
        if not embedded:
            for stat in db[collection].aggregate([{"$indexStats": {}}]):
                usage[stat["name"]] = stat.get("accesses", {})
        for name, info in db[collection].index_information().items():
            accesses = usage.get(name)
            rows.append(
                {
                    "collection": collection,
                    "name": name,
                    "keys": ", ".join(f"{field} {order}" for field, order in info["key"]),
                    "options": _options(info),
                    "ops": None if accesses is None else int(accesses.get("ops", 0)),
                    "since": None if accesses is None else accesses.get("since"),
                }
            )
    return rows


def _options(info: dict[str, Any]) -> str:
    parts = []
    if info.get("unique"):
        parts.append("unique")
    if "expireAfterSeconds" in info:
        parts.append(f"TTL {info['expireAfterSeconds']} s")
    if "partialFilterExpression" in info:
        parts.append(f"partial {info['partialFilterExpression']}")
    return ", ".join(parts)
