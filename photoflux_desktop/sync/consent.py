"""The consent texts a guest agrees to: what the form shows and which version each
lead records. Three sources, best first: the connected studio's texts (fetched from its
cloud and cached next to the outbox, so they hold offline), the settings file, and the
built-in defaults. Each text has a version id; a lead stores the version and the time
of each consent given."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from photoflux_desktop.engine.settings import Settings, load_settings
from photoflux_desktop.sync.outbox import outbox_path, write_atomically

if TYPE_CHECKING:
    from photoflux_desktop.sync.client import CloudClient

CONSENT_ROUTE = "/api/studio/consent-texts"
DEFAULT_VERSION = "2026-01"
DEFAULT_PROCESSING = (
    "I agree that my photo is processed by AI to create the styled picture, and that the "
    "result is sent to me by e-mail or shown to me through a QR code. My photo and "
    "address are used for nothing else."
)
DEFAULT_MARKETING = (
    "I would like to hear from the studio about offers and events by e-mail. I can "
    "withdraw this at any time."
)

Source = Literal["default", "settings", "studio"]


@dataclass(frozen=True)
class ConsentTexts:
    processing_text: str = DEFAULT_PROCESSING
    processing_version: str = DEFAULT_VERSION
    marketing_text: str = DEFAULT_MARKETING
    marketing_version: str = DEFAULT_VERSION
    privacy_url: str | None = None
    source: Source = "default"


def texts_from_settings(settings: Settings | None = None) -> ConsentTexts:
    """The settings' texts (each falling back to the built-in one) and their versions."""
    s = settings or load_settings()[0]
    own = s.consent_processing_text or s.consent_marketing_text or s.privacy_url
    return ConsentTexts(
        processing_text=s.consent_processing_text or DEFAULT_PROCESSING,
        processing_version=s.consent_text_version,
        marketing_text=s.consent_marketing_text or DEFAULT_MARKETING,
        marketing_version=s.marketing_text_version,
        privacy_url=s.privacy_url,
        source="settings" if own else "default",
    )


def _cache_path():
    return outbox_path().parent / "consent_texts.json"


def cached_texts(cloud_url: str | None = None) -> ConsentTexts | None:
    """The studio's texts fetched last, if they came from `cloud_url` (any when None)."""
    try:
        data = json.loads(_cache_path().read_text(encoding="utf-8"))
        if cloud_url is not None and data.pop("cloud_url", None) != cloud_url.rstrip("/"):
            return None
        data.pop("cloud_url", None)
        return ConsentTexts(**data)
    except (OSError, ValueError, TypeError):
        return None


def current_texts(cloud_url: str | None = None) -> ConsentTexts:
    """What the lead form shows now: the studio's cached texts when this install is
    linked to the studio they came from, else the settings' (or the defaults)."""
    if cloud_url is not None:
        cached = cached_texts(cloud_url)
        if cached is not None:
            return cached
    return texts_from_settings()


def texts_from_studio(answer: dict[str, Any], fallback: ConsentTexts) -> ConsentTexts:
    """The cloud's answer; a text the studio has not set keeps the fallback's, with
    the fallback's version (a version always names the text that was shown)."""
    texts = fallback
    if answer.get("processing_text") and answer.get("processing_version"):
        texts = replace(
            texts,
            processing_text=answer["processing_text"],
            processing_version=answer["processing_version"],
        )
    if answer.get("marketing_text") and answer.get("marketing_version"):
        texts = replace(
            texts,
            marketing_text=answer["marketing_text"],
            marketing_version=answer["marketing_version"],
        )
    if answer.get("privacy_url"):
        texts = replace(texts, privacy_url=answer["privacy_url"])
    return replace(texts, source="studio")


def fetch_texts(client: CloudClient, cloud_url: str) -> ConsentTexts:
    """Asks the studio for its texts (device token) and caches them for offline use.
    Raises the client's errors (CloudUnreachable, TokenRefused, Refused)."""
    answer = client.get(CONSENT_ROUTE).json()
    texts = texts_from_studio(answer, texts_from_settings())
    record = asdict(texts) | {"cloud_url": cloud_url.rstrip("/")}
    path = _cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(record).encode())
    return texts


def refresh_texts(client: CloudClient, cloud_url: str) -> ConsentTexts | None:
    """`fetch_texts`, or None when the cloud cannot answer now (the cache stays)."""
    from photoflux_desktop.sync.client import CloudUnreachable, Refused, TokenRefused

    try:
        return fetch_texts(client, cloud_url)
    except (CloudUnreachable, Refused, TokenRefused, ValueError):
        return None
