"""Lead webhooks: a studio's endpoint (URL and sealed HMAC secret on the studio) and a
queue of deliveries with their attempt log, so a restart loses nothing and the
dashboard can show what happened. A delivery names the lead; the payload is built when
it is sent, so no extra copy of the person's data is kept."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.database import Database

from cloud_api.store.clock import utcnow

LEASE = timedelta(seconds=60)
KEEP = timedelta(days=30)  # the delivery log
LOG_ENTRIES = 20
QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"


def set_endpoint(db: Database, studio_id: str, url: str, sealed_secret: dict[str, str]) -> dict:
    endpoint = {"url": url, "secret": sealed_secret, "updated_at": utcnow()}
    db.studios.update_one({"_id": studio_id}, {"$set": {"webhook": endpoint}})
    return endpoint


def clear_endpoint(db: Database, studio_id: str) -> None:
    db.studios.update_one({"_id": studio_id}, {"$unset": {"webhook": ""}})


def endpoint(db: Database, studio_id: str) -> dict[str, Any] | None:
    studio = db.studios.find_one({"_id": studio_id}, {"webhook": 1})
    return None if studio is None else studio.get("webhook")


def enqueue(db: Database, studio_id: str, lead_id: str, event: str) -> dict[str, Any]:
    now = utcnow()
    doc = {
        "_id": uuid.uuid4().hex,
        "studio_id": studio_id,
        "lead_id": lead_id,
        "event": event,
        "status": QUEUED,
        "attempts": 0,
        "next_attempt_at": now,
        "lease_until": None,
        "created_at": now,
        "last_error": None,
        "log": [],
        "expires_at": now + KEEP,
    }
    db.webhook_deliveries.insert_one(doc)
    return doc


def claim_due(db: Database) -> dict[str, Any] | None:
    """Takes one due delivery (or one whose sender died: its lease ran out)."""
    now = utcnow()
    return db.webhook_deliveries.find_one_and_update(
        {
            "$or": [
                {"status": QUEUED, "next_attempt_at": {"$lte": now}},
                {"status": SENDING, "lease_until": {"$lte": now}},
            ]
        },
        {"$set": {"status": SENDING, "lease_until": now + LEASE}, "$inc": {"attempts": 1}},
        sort=[("next_attempt_at", 1)],
        return_document=ReturnDocument.AFTER,
    )


def record(
    db: Database,
    delivery_id: str,
    *,
    status: str,
    http_status: int | None,
    error: str | None,
    retry_in: timedelta | None = None,
) -> None:
    """One attempt's outcome, appended to the log (the last LOG_ENTRIES are kept)."""
    now = utcnow()
    entry = {"at": now, "status": http_status, "error": error}
    changes: dict[str, Any] = {"status": status, "last_error": error, "lease_until": None}
    if retry_in is not None:
        changes["next_attempt_at"] = now + retry_in
    db.webhook_deliveries.update_one(
        {"_id": delivery_id},
        {"$set": changes, "$push": {"log": {"$each": [entry], "$slice": -LOG_ENTRIES}}},
    )


def seconds_until_due(db: Database) -> float | None:
    nxt = db.webhook_deliveries.find_one(
        {"status": QUEUED}, {"next_attempt_at": 1}, sort=[("next_attempt_at", 1)]
    )
    if nxt is None:
        return None
    return max(0.0, (nxt["next_attempt_at"] - utcnow()).total_seconds())


def recent(db: Database, studio_id: str | None, limit: int = 50) -> list[dict[str, Any]]:
    query = {} if studio_id is None else {"studio_id": studio_id}
    return list(db.webhook_deliveries.find(query).sort("created_at", -1).limit(limit))


def for_lead(db: Database, lead_id: str) -> list[dict[str, Any]]:
    """Every webhook delivery about one person, oldest first (their data went to the
    studio's CRM: a GDPR export names that recipient)."""
    return list(db.webhook_deliveries.find({"lead_id": lead_id}).sort("created_at", 1))


def erase_for_lead(db: Database, lead_id: str) -> None:
    db.webhook_deliveries.delete_many({"lead_id": lead_id})
