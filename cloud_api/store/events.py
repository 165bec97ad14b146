"""Analytics events: written with unordered bulk inserts, idempotent by event id."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo.database import Database
from pymongo.errors import BulkWriteError

from cloud_api.store.clock import try_naive_utc, utcnow

DUPLICATE_KEY = 11000
MAX_AHEAD = timedelta(days=1)
MAX_AGE = timedelta(days=400)


def plausible_time(client_time: datetime, received: datetime) -> datetime | None:
    """The device's time if it is believable, else None (a wrong clock)."""
    moment = try_naive_utc(client_time)
    if moment is None or not received - MAX_AGE <= moment <= received + MAX_AHEAD:
        return None
    return moment


def insert_batch(
    db: Database, studio_id: str, device_id: str, events: list[dict[str, Any]]
) -> tuple[int, int]:
    """Returns (accepted, duplicates). The studio is part of `_id`, so one studio's ids
    can never collide with another's, and a replayed batch inserts nothing twice.

    A device with a wrong clock must not lose its events or block its outbox, so an
    implausible time is replaced by the time received and the original is kept."""
    received = utcnow()
    docs = []
    for event in events:
        ts = plausible_time(event["ts"], received)
        extra = {} if ts is not None else {"client_ts": event["ts"].isoformat()}
        ts = ts or received
        docs.append(
            extra
            | {
                "_id": f"{studio_id}:{event['id']}",
                "studio_id": studio_id,
                "device_id": device_id,
                "name": event["name"],
                "ts": ts,
                "day": ts.strftime("%Y-%m-%d"),
                "session": event["session"],
                "campaign": event.get("campaign"),
                "properties": event["properties"],
                "received_at": received,
            }
        )
    if not docs:
        return 0, 0
    try:
        result = db.events.insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(err.get("code") != DUPLICATE_KEY for err in errors):
            raise
        return exc.details.get("nInserted", len(docs) - len(errors)), len(errors)
    return len(result.inserted_ids), 0


def _studio_match(
    studio_id: str | None, since: datetime, campaign: str | None = None
) -> dict[str, Any]:
    match: dict[str, Any] = {"ts": {"$gte": since}}
    if studio_id is not None:
        match["studio_id"] = studio_id
    if campaign is not None:
        match["campaign"] = campaign
    return match


def renders_per_style(
    db: Database, studio_id: str | None, since: datetime, campaign: str | None = None
) -> dict[str, int]:
    match = _studio_match(studio_id, since, campaign) | {"name": "render_finished"}
    pipeline = [
        {"$match": match},
        {"$group": {"_id": "$properties.style", "n": {"$sum": 1}}},
        {"$sort": {"n": -1}},
        {"$limit": 12},
    ]
    return {str(row["_id"] or "unknown"): row["n"] for row in db.events.aggregate(pipeline)}


FUNNEL = ("photo_loaded", "render_finished", "result_exported", "result_emailed")
# the event names that reach each step: today's desktop names and older installs' names
FUNNEL_NAMES = {
    "photo_loaded": ("photo_loaded",),
    "render_finished": ("render_finished",),
    "result_exported": ("export", "result_exported"),
    "result_emailed": ("email_requested", "qr_shown", "result_emailed"),
}


def funnel(
    db: Database, studio_id: str | None, since: datetime, campaign: str | None = None
) -> dict[str, int]:
    """Distinct sessions reaching each step."""
    names = [name for step in FUNNEL for name in FUNNEL_NAMES[step]]
    match = _studio_match(studio_id, since, campaign) | {"name": {"$in": names}}
    pipeline = [
        {"$match": match},
        {"$group": {"_id": "$name", "sessions": {"$addToSet": "$session"}}},
    ]
    found = {row["_id"]: set(row["sessions"]) for row in db.events.aggregate(pipeline)}
    return {
        step: len(set().union(*(found.get(n, set()) for n in FUNNEL_NAMES[step])))
        for step in FUNNEL
    }


def active_devices_per_day(
    db: Database, studio_id: str | None, since: datetime, campaign: str | None = None
) -> dict[str, int]:
    pipeline = [
        {"$match": _studio_match(studio_id, since, campaign)},
        {"$group": {"_id": "$day", "devices": {"$addToSet": "$device_id"}}},
    ]
    return {row["_id"]: len(row["devices"]) for row in db.events.aggregate(pipeline)}
