"""Desktop installs linked to a studio, each with its own revocable token."""

from __future__ import annotations

import uuid
from typing import Any

from pymongo import ReturnDocument
from pymongo.database import Database

from cloud_api.store.clock import utcnow

DEVICE_SCOPES = ("leads:write", "events:write", "deliveries:write", "renders:write")


def create_device(
    db: Database, studio_id: str, name: str, token_hash: str, created_by: str
) -> dict[str, Any]:
    device = {
        "_id": uuid.uuid4().hex,
        "studio_id": studio_id,
        "name": name,
        "token_hash": token_hash,
        "scopes": list(DEVICE_SCOPES),
        "created_at": utcnow(),
        "created_by": created_by,
        "revoked_at": None,
        "last_seen_at": None,
    }
    db.devices.insert_one(device)
    return device


def find_active_by_token_hash(db: Database, token_hash: str) -> dict[str, Any] | None:
    return db.devices.find_one({"token_hash": token_hash, "revoked_at": None})


def touch(db: Database, device_id: str) -> None:
    db.devices.update_one({"_id": device_id}, {"$set": {"last_seen_at": utcnow()}})


def list_devices(db: Database, studio_id: str) -> list[dict[str, Any]]:
    return list(db.devices.find({"studio_id": studio_id}).sort("created_at", -1).limit(1000))


def revoke(db: Database, studio_id: str, device_id: str) -> dict[str, Any] | None:
    """The revoked device, or None if the studio has no such device. Revoking it again
    finds it too (the caller answers 204 both times) and keeps the first revocation time."""
    revoked = db.devices.find_one_and_update(
        {"_id": device_id, "studio_id": studio_id, "revoked_at": None},
        {"$set": {"revoked_at": utcnow()}},
        return_document=ReturnDocument.AFTER,
    )
    return revoked or db.devices.find_one({"_id": device_id, "studio_id": studio_id})
