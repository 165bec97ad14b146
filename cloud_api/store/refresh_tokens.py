"""Rotating refresh tokens. Each login starts a family; each refresh spends one token and
issues the next. Presenting a spent token means it was stolen or replayed, so the whole
family is revoked and its holder must log in again."""

from __future__ import annotations

import uuid
from datetime import timedelta
from enum import Enum
from typing import Any

from pymongo.database import Database

from cloud_api.store.clock import utcnow

# longer than any access token lives (ACCESS_TOKEN_MINUTES is at most a day)
MAX_ACCESS = timedelta(days=1, minutes=5)


class RefreshOutcome(Enum):
    OK = "ok"
    UNKNOWN = "unknown"
    REUSED = "reused"
    REVOKED = "revoked"


def store(
    db: Database, token_hash: str, user_id: str, lifetime: timedelta, family: str | None = None
) -> str:
    family = family or uuid.uuid4().hex
    now = utcnow()
    db.refresh_tokens.insert_one(
        {
            "_id": token_hash,
            "user_id": user_id,
            "family": family,
            "created_at": now,
            "expires_at": now + lifetime,
            "used_at": None,
            "revoked": False,
        }
    )
    return family


def store_unless_revoked(
    db: Database, token_hash: str, user_id: str, lifetime: timedelta, family: str
) -> bool:
    """Stores the next token of a family unless the family was revoked meanwhile (a
    sign-out that lands between spending the old token and storing this one would miss
    it, and leave a working refresh token of a revoked session). `revoke_family` writes
    its marker before revoking tokens, so checking the marker after storing sees every
    revocation that the revoking itself did not catch."""
    store(db, token_hash, user_id, lifetime, family)
    if not is_revoked(db, family):
        return True
    db.refresh_tokens.update_one({"_id": token_hash}, {"$set": {"revoked": True}})
    return False


def spend(db: Database, token_hash: str) -> tuple[RefreshOutcome, dict[str, Any] | None]:
    """Marks the token used, atomically: of two concurrent refreshes only one wins."""
    now = utcnow()
    record = db.refresh_tokens.find_one_and_update(
        {"_id": token_hash, "used_at": None, "revoked": False, "expires_at": {"$gt": now}},
        {"$set": {"used_at": now}},
    )
    if record is not None:
        return RefreshOutcome.OK, record
    stale = db.refresh_tokens.find_one({"_id": token_hash})
    if stale is None or stale["expires_at"] <= now:
        return RefreshOutcome.UNKNOWN, None
    if stale["revoked"]:
        return RefreshOutcome.REVOKED, stale
    revoke_family(db, stale["family"])
    return RefreshOutcome.REUSED, stale


def revoke_family(db: Database, family: str, access_lifetime: timedelta = MAX_ACCESS) -> int:
    """Revokes every refresh token of a login and the access tokens issued with them
    (they name the family; `is_revoked` is checked on every request)."""
    now = utcnow()
    db.revoked_sessions.update_one(
        {"_id": family},
        {"$setOnInsert": {"revoked_at": now, "expires_at": now + access_lifetime}},
        upsert=True,
    )
    return db.refresh_tokens.update_many(
        {"family": family}, {"$set": {"revoked": True}}
    ).modified_count


def is_revoked(db: Database, family: str) -> bool:
    return db.revoked_sessions.find_one({"_id": family}, {"_id": 1}) is not None


def family_of(db: Database, token_hash: str) -> str | None:
    record = db.refresh_tokens.find_one({"_id": token_hash}, {"family": 1})
    return None if record is None else record["family"]
