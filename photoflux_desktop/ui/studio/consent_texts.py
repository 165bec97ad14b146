"""Where the form gets its consent texts and how it turns answers into a lead body.

Until `sync.consent` (the studio's texts with versions) is merged, the texts are the
defaults with the version from settings; the body is built by `sync.leads` either way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from photoflux_desktop.sync.leads import DEFAULT_CONSENT_VERSION, lead_body

PROCESSING_TEXT = (
    "I agree that my photo is processed by AI to create the styled picture, and that the "
    "result is sent to the e-mail address above."
)
MARKETING_TEXT = "I would like to hear from the studio about offers and events by e-mail."


@dataclass(frozen=True)
class ConsentTexts:
    processing_text: str = PROCESSING_TEXT
    processing_version: str = DEFAULT_CONSENT_VERSION
    marketing_text: str = MARKETING_TEXT
    marketing_version: str = DEFAULT_CONSENT_VERSION
    privacy_url: str | None = None


def build_lead_body(
    texts: ConsentTexts,
    *,
    email: str,
    name: str,
    processing: bool,
    marketing: bool,
    campaign: str | None,
    source: str,
) -> dict[str, Any]:
    body = lead_body(
        email,
        consent=processing,
        name=name,
        marketing=marketing,
        consent_text_version=texts.processing_version,
        source=source,
    )
    if campaign:
        body["campaign"] = campaign
    return body
