"""Studios and the people who administer them (role `admin` or `studio-admin`)."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from cloud_api.store.clock import utcnow

ROLE_ADMIN = "admin"
ROLE_STUDIO_ADMIN = "studio-admin"
ROLE_DEVICE = "device"


class AlreadyExists(Exception):
    pass


def create_studio(db: Database, name: str) -> dict[str, Any]:
    studio = {"_id": uuid.uuid4().hex, "name": name, "created_at": utcnow()}
    db.studios.insert_one(studio)
    return studio


def get_studio(db: Database, studio_id: str) -> dict[str, Any] | None:
    return db.studios.find_one({"_id": studio_id})


def list_studios(db: Database) -> list[dict[str, Any]]:
    return list(db.studios.find().sort("name", 1).limit(500))


def create_user(
    db: Database, email: str, password_hash: str, role: str, studio_id: str | None
) -> dict[str, Any]:
    user = {
        "_id": uuid.uuid4().hex,
        "email": email.strip().lower(),
        "password_hash": password_hash,
        "role": role,
        "studio_id": studio_id,
        "disabled": False,
        "created_at": utcnow(),
    }
    try:
        db.users.insert_one(user)
    except DuplicateKeyError as exc:
        raise AlreadyExists(email) from exc
    return user


def find_user_by_email(db: Database, email: str) -> dict[str, Any] | None:
    return db.users.find_one({"email": email.strip().lower()})


def get_user(db: Database, user_id: str) -> dict[str, Any] | None:
    return db.users.find_one({"_id": user_id})


def any_admin(db: Database) -> bool:
    return db.users.find_one({"role": ROLE_ADMIN}, {"_id": 1}) is not None


class ConsentVersionReused(Exception):
    """A version id already named another wording of the same consent."""


def _text_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def set_consent_texts(db: Database, studio_id: str, texts: dict[str, Any]) -> None:
    """Sets the texts; remembers which wording each version id named, and raises
    ConsentVersionReused (naming the field) when a version comes back with other words:
    a lead records only the version, so one version must always mean one text."""
    studio = db.studios.find_one({"_id": studio_id}, {"consent_text_history": 1}) or {}
    history: list[dict[str, str]] = studio.get("consent_text_history") or []
    known = {(h["kind"], h["version"]): h["sha256"] for h in history}
    added = []
    for kind in ("processing", "marketing"):
        text, version = texts.get(f"{kind}_text"), texts.get(f"{kind}_version")
        if text is None or version is None:
            continue
        digest = _text_digest(text)
        seen = known.get((kind, version))
        if seen is not None and seen != digest:
            raise ConsentVersionReused(f"{kind}_version")
        if seen is None:
            added.append({"kind": kind, "version": version, "sha256": digest})
    update: dict[str, Any] = {"$set": {"consent_texts": texts}}
    if added:
        update["$push"] = {"consent_text_history": {"$each": added}}
    db.studios.update_one({"_id": studio_id}, update)
