"""Leads: personal data encrypted at field level, found by keyed hash, idempotent by the
client's own id (a receipt per id) and unique per studio and e-mail address."""

from __future__ import annotations

import contextlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from cloud_api.core.fieldcrypt import FieldCipher, normalise_email
from cloud_api.store.clock import to_naive_utc, try_naive_utc, utcnow

RECEIPT_LIFETIME = timedelta(days=90)


class ClientIdReused(Exception):
    """The client id was already used for a different e-mail address."""


@dataclass(frozen=True)
class LeadInput:
    client_id: str
    email: str
    name: str | None
    source: str
    consent_text_version: str
    consented_at: datetime
    marketing: bool = False
    marketing_text_version: str | None = None
    marketing_consented_at: datetime | None = None
    campaign: str | None = None


@dataclass(frozen=True)
class LeadWrite:
    lead_id: str
    status: str  # created | replayed (a known address answers "created" too: no oracle)
    new: bool  # for metrics and logs only, never for the answer


def _context(studio_id: str, field: str) -> str:
    return f"{studio_id}/leads/{field}"


def record_lead(
    db: Database, cipher: FieldCipher, studio_id: str, device_id: str | None, lead: LeadInput
) -> LeadWrite:
    """Stores a new lead, or, for an address the studio already has, only a new consent
    event: a device never overwrites a stored lead's name or consent, and the answer is the
    same either way, so a device cannot learn which addresses are already leads."""
    email_hash = cipher.lookup_hash(normalise_email(lead.email))
    receipt_id = f"{studio_id}:{lead.client_id}"
    receipt = db.lead_receipts.find_one({"_id": receipt_id})
    if receipt is not None:
        if receipt["email_hash"] != email_hash:
            raise ClientIdReused(lead.client_id)
        return LeadWrite(receipt["lead_id"], "replayed", False)
    lead_id, created = _insert_once(
        db, cipher, studio_id, device_id, email_hash=email_hash, lead=lead
    )
    now = utcnow()
    # a concurrent retry of the same request may get here first: same outcome
    with contextlib.suppress(DuplicateKeyError):
        db.lead_receipts.insert_one(
            {
                "_id": receipt_id,
                "lead_id": lead_id,
                "email_hash": email_hash,
                "device_id": device_id,  # deliveries go to leads their device recorded
                "recorded_at": now,
                "expires_at": now + RECEIPT_LIFETIME,
            }
        )
        db.lead_consents.insert_one(
            {
                "_id": receipt_id,
                "lead_id": lead_id,
                "studio_id": studio_id,
                "device_id": device_id,
                "source": lead.source,
                "campaign": lead.campaign,
                "consent_text_version": lead.consent_text_version,
                "consented_at": min(try_naive_utc(lead.consented_at) or now, now),
                "client_consented_at": lead.consented_at.isoformat(),
                **_marketing(lead, now),
                "received_at": now,
            }
        )
    return LeadWrite(lead_id, "created", created)


def _marketing(lead: LeadInput, now: datetime) -> dict[str, Any]:
    """The marketing consent's fields: given (version and time) or not (both None)."""
    if not lead.marketing or lead.marketing_consented_at is None:
        return {"marketing": False, "marketing_text_version": None, "marketing_consented_at": None}
    return {
        "marketing": True,
        "marketing_text_version": lead.marketing_text_version,
        "marketing_consented_at": min(try_naive_utc(lead.marketing_consented_at) or now, now),
    }


def _insert_once(
    db: Database,
    cipher: FieldCipher,
    studio_id: str,
    device_id: str | None,
    *,
    email_hash: str,
    lead: LeadInput,
) -> tuple[str, bool]:
    """The lead's id, and whether it is new. Everything is `$setOnInsert`: an existing
    lead keeps what it holds."""
    new_id = uuid.uuid4().hex
    now = utcnow()
    consented_at = try_naive_utc(lead.consented_at) or now
    fields: dict[str, Any] = {
        "_id": new_id,
        "studio_id": studio_id,
        "email_hash": email_hash,
        "created_at": now,
        "email": cipher.encrypt(lead.email.strip(), _context(studio_id, "email")),
        "source": lead.source,
        "consent": True,
        "consent_text_version": lead.consent_text_version,
        # a consent "in the future" is a wrong device clock: record when it reached us
        "consented_at": min(consented_at, now),
        "client_consented_at": lead.consented_at.isoformat(),
        **_marketing(lead, now),
        "campaign": lead.campaign,
        "device_id": device_id,
        "updated_at": now,
    }
    if lead.name:
        fields["name"] = cipher.encrypt(lead.name, _context(studio_id, "name"))
    for _attempt in range(2):  # two first-time upserts may race on the unique index
        try:
            doc = db.leads.find_one_and_update(
                {"studio_id": studio_id, "email_hash": email_hash},
                {"$setOnInsert": fields},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
            return doc["_id"], doc["_id"] == new_id
        except DuplicateKeyError:
            continue
    raise DuplicateKeyError("lead upsert lost twice")


def recorded_by(db: Database, lead_id: str, device_id: str, since: datetime) -> bool:
    """Whether this device recorded this lead (any of its receipts) since then."""
    query = {"lead_id": lead_id, "device_id": device_id, "recorded_at": {"$gte": since}}
    return db.lead_receipts.find_one(query, {"_id": 1}) is not None


def consents(db: Database, lead_id: str) -> list[dict[str, Any]]:
    return list(db.lead_consents.find({"lead_id": lead_id}).sort("received_at", 1))


def consent_record(doc: dict[str, Any]) -> dict[str, Any]:
    """One stored consent as the lead view and the GDPR export show it."""
    return {
        "source": doc.get("source", ""),
        "campaign": doc.get("campaign"),
        "processing_text_version": doc["consent_text_version"],
        "processing_consented_at": doc["consented_at"],
        "marketing": doc.get("marketing", False),
        "marketing_text_version": doc.get("marketing_text_version"),
        "marketing_consented_at": doc.get("marketing_consented_at"),
        "received_at": doc["received_at"],
    }


def reveal(cipher: FieldCipher, doc: dict[str, Any]) -> dict[str, Any]:
    """The lead as an admin may see it: personal fields decrypted."""
    studio_id = doc["studio_id"]
    name = doc.get("name")
    return {
        "id": doc["_id"],
        "studio_id": studio_id,
        "email": cipher.decrypt(doc["email"], _context(studio_id, "email")),
        "name": None if name is None else cipher.decrypt(name, _context(studio_id, "name")),
        "source": doc["source"],
        "consent": doc["consent"],
        "consent_text_version": doc["consent_text_version"],
        "consented_at": doc["consented_at"],
        "marketing": doc.get("marketing", False),
        "marketing_text_version": doc.get("marketing_text_version"),
        "marketing_consented_at": doc.get("marketing_consented_at"),
        "campaign": doc.get("campaign"),
        "created_at": doc["created_at"],
        "updated_at": doc["updated_at"],
    }


CURSOR_PATTERN = r"^\d{1,13}-[0-9a-f]{32}$"


def cursor_after(doc: dict[str, Any]) -> str:
    """Where the next page starts: time and id, so leads created in the same millisecond
    are neither skipped nor repeated."""
    millis = int(doc["created_at"].replace(tzinfo=UTC).timestamp() * 1000)
    return f"{millis}-{doc['_id']}"


def parse_cursor(cursor: str) -> tuple[datetime, str]:
    """Raises ValueError for a cursor this module did not make."""
    if not re.match(CURSOR_PATTERN, cursor):
        raise ValueError(cursor)
    millis, lead_id = cursor.split("-", 1)
    moment = datetime.fromtimestamp(int(millis) / 1000, UTC)  # OverflowError is a ValueError
    return to_naive_utc(moment), lead_id


def page(
    db: Database,
    studio_id: str | None,
    limit: int,
    after: str | None = None,
    email_hash: str | None = None,
    *,
    campaign: str | None = None,
) -> list[dict[str, Any]]:
    query: dict[str, Any] = {"consent": True}
    if studio_id is not None:
        query["studio_id"] = studio_id
    if campaign is not None:
        query["campaign"] = campaign
    if after is not None:
        moment, lead_id = parse_cursor(after)
        query["$or"] = [
            {"created_at": {"$lt": moment}},
            {"created_at": moment, "_id": {"$lt": lead_id}},
        ]
    if email_hash is not None:
        query["email_hash"] = email_hash
    return list(db.leads.find(query).sort([("created_at", -1), ("_id", -1)]).limit(limit))


def get(db: Database, lead_id: str, studio_id: str | None) -> dict[str, Any] | None:
    query: dict[str, Any] = {"_id": lead_id}
    if studio_id is not None:
        query["studio_id"] = studio_id
    return db.leads.find_one(query)


def erase(db: Database, lead: dict[str, Any], actor: str) -> None:
    """Deletes the person's data and keeps a record that it was deleted (no personal data)."""
    db.leads.delete_one({"_id": lead["_id"]})
    db.lead_receipts.delete_many({"lead_id": lead["_id"]})
    db.lead_consents.delete_many({"lead_id": lead["_id"]})
    db.audit.insert_one(
        {
            "_id": uuid.uuid4().hex,
            "studio_id": lead["studio_id"],
            "action": "lead.erased",
            "subject": lead["_id"],
            "actor": actor,
            "at": utcnow(),
        }
    )


def reencrypt(db: Database, cipher: FieldCipher) -> tuple[int, int]:
    """Rewrites every sealed field not under the active key (after a key rotation).
    Returns (leads checked, leads rewritten); safe to run again or to interrupt."""
    checked = rewritten = 0
    for doc in db.leads.find({}, {"studio_id": 1, "email": 1, "name": 1}):
        checked += 1
        changes = {}
        for field in ("email", "name"):
            sealed = doc.get(field)
            if sealed is not None and cipher.needs_rotation(sealed):
                context = _context(doc["studio_id"], field)
                changes[field] = cipher.encrypt(cipher.decrypt(sealed, context), context)
        if changes:
            # only if nobody changed the lead meanwhile: the next run picks it up otherwise
            guard = {"_id": doc["_id"], **{f: doc[f] for f in changes}}
            rewritten += db.leads.update_one(guard, {"$set": changes}).modified_count
    return checked, rewritten


def receipts(db: Database, lead_id: str) -> list[str]:
    return [r["_id"].split(":", 1)[1] for r in db.lead_receipts.find({"lead_id": lead_id})]


def count_per_day(
    db: Database, studio_id: str | None, since: datetime, campaign: str | None = None
) -> dict[str, int]:
    match: dict[str, Any] = {"consent": True, "created_at": {"$gte": since}}
    if studio_id is not None:
        match["studio_id"] = studio_id
    if campaign is not None:
        match["campaign"] = campaign
    counts: dict[str, int] = {}
    for doc in db.leads.find(match, {"created_at": 1}):
        day = doc["created_at"].strftime("%Y-%m-%d")
        counts[day] = counts.get(day, 0) + 1
    return counts
