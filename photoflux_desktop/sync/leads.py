"""A lead as data: the address, the consents given and the version of the text each
consent was given to. The client refuses a lead without the required consent, before
anything is written (the server refuses it again)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from photoflux_desktop.engine.errors import bad_input
from photoflux_desktop.sync.outbox import Outbox

DEFAULT_CONSENT_VERSION = "2026-01"
VERSION_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
# what POST /api/leads takes today; the other fields stay on the device until it grows
API_FIELDS = ("email", "name", "source", "consent", "consent_text_version", "consented_at")


def normalise_email(text: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise bad_input(f"'{text}' is not a valid e-mail address ({exc}).") from None


def lead_body(
    email: str,
    *,
    consent: bool,
    name: str | None = None,
    marketing: bool = False,
    consent_text_version: str = DEFAULT_CONSENT_VERSION,
    source: str = "desktop",
) -> dict[str, Any]:
    if not consent:
        raise bad_input(
            "Consent is required: a lead is recorded only when the person agrees to the "
            "processing of their photo and the delivery of the result.",
            "Ask the person, then pass --consent.",
        )
    if not VERSION_PATTERN.match(consent_text_version):
        raise bad_input(f"Consent text version '{consent_text_version}' is not a valid id.")
    clean_name = (name or "").strip() or None
    unprintable = clean_name and any(ord(c) < 32 or ord(c) == 127 for c in clean_name)
    if clean_name and (len(clean_name) > 200 or unprintable):
        raise bad_input("The name must be at most 200 printable characters.")
    now = datetime.now(UTC).isoformat()
    return {
        "email": normalise_email(email),
        "name": clean_name,
        "source": source,
        "consent": True,
        "consent_text_version": consent_text_version,
        "consented_at": now,
        "marketing": bool(marketing),
        "marketing_consented_at": now if marketing else None,
    }


def record_lead(outbox: Outbox, body: dict[str, Any]) -> str:
    """Writes the lead (committed, fsync'd) and answers its client id."""
    if body.get("consent") is not True:
        raise bad_input("Consent is required to record a lead.")
    return outbox.add_lead(body)


def api_body(client_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"id": client_id, **{key: body[key] for key in API_FIELDS if body.get(key) is not None}}
