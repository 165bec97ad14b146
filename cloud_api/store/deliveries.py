"""E-mail deliveries of results: a queue in the database, so a restart loses nothing.

Each delivery is idempotent by the client's id. The image waits in `uploads` (TTL) until
it is sent. A sender claims due deliveries with a lease; a sender that dies mid-send
leaves a lease that runs out, and the delivery is claimed again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from cloud_api.store.clock import utcnow

LEASE = timedelta(seconds=120)
IMAGE_LIFETIME = timedelta(days=7)

QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"


def enqueue(
    db: Database,
    studio_id: str,
    client_id: str,
    lead_id: str,
    *,
    image: bytes,
    meta: dict[str, Any],
    hold: bool = False,
) -> tuple[dict[str, Any], bool]:
    """Returns (delivery, created). A repeated id returns the first delivery unchanged.
    With `hold`, the delivery is not due until made so (enqueue_capped)."""
    delivery_id = f"{studio_id}:{client_id}"
    now = utcnow()
    doc = {
        "_id": delivery_id,
        "studio_id": studio_id,
        "lead_id": lead_id,
        "status": QUEUED,
        "attempts": 0,
        "next_attempt_at": now + HOLD if hold else now,
        "lease_until": None,
        "created_at": now,
        "sent_at": None,
        "last_error": None,
        **meta,
    }
    try:
        db.deliveries.insert_one(doc)
    except DuplicateKeyError:
        return db.deliveries.find_one({"_id": delivery_id}), False
    db.uploads.insert_one(
        {"_id": f"delivery:{delivery_id}", "data": image, "expires_at": now + IMAGE_LIFETIME}
    )
    return doc, True


HOLD = timedelta(days=1)  # a delivery not yet within its caps is not due (see enqueue_capped)


def enqueue_capped(
    db: Database,
    caps: list[Cap],
    studio_id: str,
    client_id: str,
    lead_id: str,
    *,
    image: bytes,
    meta: dict[str, Any],
) -> tuple[dict[str, Any] | None, bool, tuple[Cap, float] | None]:
    """Queues a delivery only if it fits every cap, atomically against concurrent
    requests (in any worker): it is inserted not yet due, the caps are counted with it,
    and it is withdrawn if it made one overflow, else made due. Of requests racing for
    the last room, at most the room's worth stay. Returns (delivery, created, None), or
    (None, False, (cap, seconds until it has room)) when refused."""
    doc, created = enqueue(db, studio_id, client_id, lead_id, image=image, meta=meta, hold=True)
    if not created:
        return doc, False, None
    now = utcnow()
    for cap in caps:
        query = cap.query | {"created_at": {"$gt": now - cap.window}}
        if db.deliveries.count_documents(query, limit=cap.limit + 1) > cap.limit:
            db.deliveries.delete_one({"_id": doc["_id"]})
            db.uploads.delete_one({"_id": f"delivery:{doc['_id']}"})
            wait = first_cap_reached(db, [cap], now) or (cap, cap.window.total_seconds())
            return None, False, wait
    db.deliveries.update_one({"_id": doc["_id"]}, {"$set": {"next_attempt_at": now}})
    return doc | {"next_attempt_at": now}, True, None


def claim_due(db: Database, now: datetime | None = None) -> dict[str, Any] | None:
    now = now or utcnow()
    return db.deliveries.find_one_and_update(
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


def seconds_until_due(db: Database, now: datetime | None = None) -> float | None:
    """How long until the next queued delivery is due (0 if one is), None if none waits."""
    now = now or utcnow()
    waiting = db.deliveries.find_one(
        {"status": QUEUED}, {"next_attempt_at": 1}, sort=[("next_attempt_at", 1)]
    )
    if waiting is None:
        return None
    return max(0.0, (waiting["next_attempt_at"] - now).total_seconds())


def image_of(db: Database, delivery_id: str) -> bytes | None:
    upload = db.uploads.find_one({"_id": f"delivery:{delivery_id}"})
    return None if upload is None else bytes(upload["data"])


def mark_sent(db: Database, delivery_id: str) -> None:
    db.deliveries.update_one(
        {"_id": delivery_id},
        {"$set": {"status": SENT, "sent_at": utcnow(), "lease_until": None, "last_error": None}},
    )
    db.uploads.delete_one({"_id": f"delivery:{delivery_id}"})


def mark_retry(db: Database, delivery_id: str, error: str, delay: timedelta) -> None:
    db.deliveries.update_one(
        {"_id": delivery_id},
        {
            "$set": {
                "status": QUEUED,
                "next_attempt_at": utcnow() + delay,
                "lease_until": None,
                "last_error": error,
            }
        },
    )


def mark_failed(db: Database, delivery_id: str, error: str) -> None:
    db.deliveries.update_one(
        {"_id": delivery_id},
        {"$set": {"status": FAILED, "lease_until": None, "last_error": error}},
    )
    db.uploads.delete_one({"_id": f"delivery:{delivery_id}"})


def get(db: Database, studio_id: str, client_id: str) -> dict[str, Any] | None:
    return db.deliveries.find_one({"_id": f"{studio_id}:{client_id}"})


def count_by_status(db: Database, studio_id: str | None, since: datetime) -> dict[str, int]:
    match: dict[str, Any] = {"created_at": {"$gte": since}}
    if studio_id is not None:
        match["studio_id"] = studio_id
    pipeline = [{"$match": match}, {"$group": {"_id": "$status", "n": {"$sum": 1}}}]
    return {row["_id"]: row["n"] for row in db.deliveries.aggregate(pipeline)}


def for_lead(db: Database, lead_id: str) -> list[dict[str, Any]]:
    return list(db.deliveries.find({"lead_id": lead_id}).sort("created_at", 1))


def erase_for_lead(db: Database, lead_id: str) -> None:
    for delivery in db.deliveries.find({"lead_id": lead_id}, {"_id": 1}):
        db.uploads.delete_one({"_id": f"delivery:{delivery['_id']}"})
    db.deliveries.delete_many({"lead_id": lead_id})


@dataclass(frozen=True)
class Cap:
    name: str  # what is limited, for the audit entry and the message
    query: dict[str, Any]  # the deliveries it counts (besides their time)
    window: timedelta
    limit: int


def first_cap_reached(
    db: Database, caps: list[Cap], now: datetime | None = None
) -> tuple[Cap, float] | None:
    """The first cap with no room for one more delivery, and the seconds until it has
    room again (its oldest counted delivery leaves the window); None if all have room."""
    now = now or utcnow()
    for cap in caps:
        query = cap.query | {"created_at": {"$gt": now - cap.window}}
        if db.deliveries.count_documents(query, limit=cap.limit) < cap.limit:
            continue
        oldest = db.deliveries.find_one(query, {"created_at": 1}, sort=[("created_at", 1)])
        freed = oldest["created_at"] + cap.window if oldest else now + cap.window
        return cap, max(1.0, (freed - now).total_seconds())
    return None


def record_cap_reached(db: Database, studio_id: str, device_id: str, cap: str) -> None:
    """One audit entry per device, cap and hour (counting refusals), not one per request."""
    now = utcnow()
    hour = now.strftime("%Y%m%d%H")
    db.audit.update_one(
        {"_id": f"delivery-cap:{device_id}:{cap}:{hour}"},
        {
            "$setOnInsert": {
                "studio_id": studio_id,
                "action": "delivery.cap_reached",
                "subject": device_id,
                "actor": f"device:{device_id}",
                "detail": cap,
                "at": now,
            },
            "$inc": {"refused": 1},
        },
        upsert=True,
    )


def caps_reached(db: Database, studio_id: str | None, since: datetime) -> list[dict[str, Any]]:
    match: dict[str, Any] = {"action": "delivery.cap_reached", "at": {"$gte": since}}
    if studio_id is not None:
        match["studio_id"] = studio_id
    return list(db.audit.find(match).sort("at", -1).limit(20))
