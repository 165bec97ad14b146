"""QR shares: a token a desktop made (stored only as its SHA-256) and, once it arrives,
the image the token's public page shows. Both expire together (TTL indexes).

A share is registered first without its image, so the page can say "on its way" from
the moment the QR code is on screen; the image is attached by a later request with the
same client id. Idempotent by the client id, like every other device write."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from cloud_api.store.clock import utcnow


class ShareConflict(Exception):
    """The client id is known with another token, or the token under another id."""


@dataclass(frozen=True)
class ShareWrite:
    doc: dict[str, Any]
    created: bool


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _image_key(share_id: str) -> str:
    return f"share:{share_id}"


def register(
    db: Database,
    studio_id: str,
    device_id: str,
    client_id: str,
    *,
    digest: str,
    campaign: str | None,
    ttl: timedelta,
) -> ShareWrite:
    """Records the token (its hash) unless this id already did; raises ShareConflict
    when the id or the token is already taken by the other."""
    share_id = f"{studio_id}:{client_id}"
    existing = db.shares.find_one({"_id": share_id})
    if existing is not None:
        if not hmac.compare_digest(existing["token_hash"], digest):
            raise ShareConflict(client_id)
        return ShareWrite(existing, False)
    now = utcnow()
    doc = {
        "_id": share_id,
        "studio_id": studio_id,
        "device_id": device_id,
        "token_hash": digest,
        "campaign": campaign,
        "created_at": now,
        "expires_at": now + ttl,
        "image_at": None,
        "image_subtype": None,
    }
    try:
        db.shares.insert_one(doc)
    except DuplicateKeyError:
        again = db.shares.find_one({"_id": share_id})  # a concurrent retry of this request
        if again is not None and hmac.compare_digest(again["token_hash"], digest):
            return ShareWrite(again, False)
        raise ShareConflict(client_id) from None
    return ShareWrite(doc, True)


def attach_image(db: Database, share: dict[str, Any], image: bytes, subtype: str) -> dict:
    """Stores the image once (a resend changes nothing) and answers the share."""
    if share.get("image_at") is not None:
        return share
    key = _image_key(share["_id"])
    with contextlib.suppress(DuplicateKeyError):  # else a concurrent resend stored it
        db.uploads.insert_one({"_id": key, "data": image, "expires_at": share["expires_at"]})
    updated = db.shares.find_one_and_update(
        {"_id": share["_id"], "image_at": None},
        {"$set": {"image_at": utcnow(), "image_subtype": subtype}},
        return_document=ReturnDocument.AFTER,
    )
    return updated or db.shares.find_one({"_id": share["_id"]}) or share


def find_live(db: Database, digest: str, now: datetime | None = None) -> dict[str, Any] | None:
    """The share whose token hashes to `digest`, if it has not expired. The lookup is by
    a hash of the token through a unique index, so its time says nothing about how much
    of a guessed token was right; expired shares the TTL monitor has not removed yet
    are treated as gone."""
    doc = db.shares.find_one({"token_hash": digest})
    if doc is None or not hmac.compare_digest(doc["token_hash"], digest):
        return None
    if doc["expires_at"] <= (now or utcnow()):
        return None
    return doc


def image_of(db: Database, share: dict[str, Any]) -> bytes | None:
    upload = db.uploads.find_one({"_id": _image_key(share["_id"])})
    return None if upload is None else bytes(upload["data"])


def get(db: Database, studio_id: str, client_id: str) -> dict[str, Any] | None:
    return db.shares.find_one({"_id": f"{studio_id}:{client_id}"})


def count_since(db: Database, studio_id: str, since: datetime) -> int:
    """Shares the studio registered since `since` (the studio_time index)."""
    return db.shares.count_documents({"studio_id": studio_id, "created_at": {"$gte": since}})


def count_by_campaign(
    db: Database, studio_id: str | None, since: datetime
) -> dict[str | None, int]:
    match: dict[str, Any] = {"created_at": {"$gte": since}, "image_at": {"$ne": None}}
    if studio_id is not None:
        match["studio_id"] = studio_id
    pipeline = [{"$match": match}, {"$group": {"_id": "$campaign", "n": {"$sum": 1}}}]
    return {row["_id"]: row["n"] for row in db.shares.aggregate(pipeline)}
