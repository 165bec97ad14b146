"""A lead as data: the address, the consents given and the version of the text each
consent was given to, and when. Two separate consents: processing of the photo and
delivery of the result (required: no lead without it), and marketing contact (optional,
never assumed). The client refuses a lead without the required consent before anything
is written (the server refuses it again)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from photoflux_desktop.engine.errors import bad_input
from photoflux_desktop.sync.consent import ConsentTexts
from photoflux_desktop.sync.outbox import Outbox
from photoflux_desktop.sync.share import check_campaign

DEFAULT_CONSENT_VERSION = "2026-01"
MAX_EMAIL_LENGTH = 254  # the cloud's limit
VERSION_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
# everything POST /api/leads takes: both consents with their versions and times
API_FIELDS = (
    "email",
    "name",
    "source",
    "campaign",
    "consent",
    "consent_text_version",
    "consented_at",
    "marketing",
    "marketing_text_version",
    "marketing_consented_at",
)


def _checked_email(text: str) -> str:
    """The normalised address, or EmailNotValidError. Refuses what the cloud refuses
    (cloud_api/api/schemas.py LeadIn.email), so a lead recorded here is never refused
    there after the guest was told it is done."""
    from email_validator import EmailNotValidError, validate_email

    address = validate_email(text.strip(), check_deliverability=False).normalized
    if "=?" in address:  # an RFC 2047 encoded word: the cloud's mailer would decode it
        raise EmailNotValidError("An e-mail address may not contain '=?'.")
    if len(address) > MAX_EMAIL_LENGTH:
        raise EmailNotValidError(f"An e-mail address is at most {MAX_EMAIL_LENGTH} characters.")
    return address


def email_problem(text: str) -> str | None:
    """Why `text` is not an address the cloud takes, in words; None when it is."""
    from email_validator import EmailNotValidError

    try:
        _checked_email(text)
    except EmailNotValidError as exc:
        return str(exc)
    return None


def normalise_email(text: str) -> str:
    from email_validator import EmailNotValidError

    try:
        return _checked_email(text)
    except EmailNotValidError as exc:
        raise bad_input(f"'{text}' is not a valid e-mail address ({exc}).") from None


def _version(value: str) -> str:
    if not VERSION_PATTERN.match(value):
        raise bad_input(f"Consent text version '{value}' is not a valid id.")
    return value


def _name(name: str | None) -> str | None:
    clean = (name or "").strip() or None
    unprintable = clean and any(ord(c) < 32 or ord(c) == 127 for c in clean)
    if clean and (len(clean) > 200 or unprintable):
        raise bad_input("The name must be at most 200 printable characters.")
    return clean


def lead_body(
    email: str,
    *,
    consent: bool,
    name: str | None = None,
    marketing: bool = False,
    texts: ConsentTexts | None = None,
    consent_text_version: str | None = None,
    campaign: str | None = None,
    source: str = "desktop",
) -> dict[str, Any]:
    """The lead as the outbox keeps it. `consent` is the required processing-and-
    delivery consent; `marketing` the optional one (False unless the person ticked it).
    Versions come from `texts` (what the form showed); `consent_text_version` overrides
    the processing version (older callers)."""
    if consent is not True:
        raise bad_input(
            "Consent is required: a lead is recorded only when the person agrees to the "
            "processing of their photo and the delivery of the result.",
            "Ask the person, then pass --consent.",
        )
    texts = texts or ConsentTexts()
    now = datetime.now(UTC).isoformat()
    marketing = marketing is True
    return {
        "email": normalise_email(email),
        "name": _name(name),
        "source": source,
        "campaign": check_campaign(campaign),
        "consent": True,
        "consent_text_version": _version(consent_text_version or texts.processing_version),
        "consented_at": now,
        "marketing": marketing,
        "marketing_text_version": _version(texts.marketing_version) if marketing else None,
        "marketing_consented_at": now if marketing else None,
    }


def record_lead(outbox: Outbox, body: dict[str, Any]) -> str:
    """Writes the lead (committed, fsync'd) and answers its client id."""
    if body.get("consent") is not True or not body.get("consent_text_version"):
        raise bad_input("Consent is required to record a lead.")
    if body.get("marketing") and not body.get("marketing_text_version"):
        raise bad_input("A marketing consent needs the version of the text it was given to.")
    return outbox.add_lead(body)


def api_body(client_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST /api/leads's body. `marketing: false` is sent too: a refusal is a fact."""
    if body.get("marketing") and not body.get("marketing_text_version"):
        # queued before marketing had its own version: it was given to the one text shown
        body = body | {"marketing_text_version": body.get("consent_text_version")}
    return {"id": client_id, **{key: body[key] for key in API_FIELDS if body.get(key) is not None}}
