"""Shares: a result a guest fetches on their phone by scanning a QR code.

The token is made here, before anything is sent, so the QR code can be shown at once.
The cloud learns the token in two steps through the outbox (see `drain.py`): first the
token alone (a tiny request sent as soon as the sync thread wakes), so the page the QR
code opens says "your photo is on its way"; then the image, after which the page shows
it. The cloud stores only the token's SHA-256, and a token it does not know (never
registered, mistyped, or expired) is a 404 that looks the same in every case. While the
device is offline, the page a guest opens is that 404, which asks them to try again in a
moment; it turns into "on its way" as soon as the token arrives."""

from __future__ import annotations

import re
import secrets

from photoflux_desktop.engine.errors import bad_input
from photoflux_desktop.sync.outbox import Outbox

TOKEN_BYTES = 24  # 192 bits; the cloud takes 16 bytes (128 bits) and more
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22,86}$")  # what the cloud accepts
CAMPAIGN_MAX = 80
# what the cloud refuses in a campaign name (cloud_api/api/schemas.py NOT_IN_HEADERS):
# control characters, line and paragraph separators, invisible format characters
NOT_IN_CAMPAIGN = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]"
)


def new_share_token() -> str:
    """A random URL-safe token (192 bits), unguessable and safe to put in a URL path."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def share_url(cloud_url: str, token: str) -> str:
    """The address the QR code carries: the cloud's public result page for `token`."""
    return f"{cloud_url.rstrip('/')}/r/{token}"


def check_campaign(campaign: str | None) -> str | None:
    """A campaign (event) name as leads, events and shares carry it: trimmed, 1–80
    printable characters, or None."""
    if campaign is None:
        return None
    clean = campaign.strip()
    if not clean:
        return None
    if len(clean) > CAMPAIGN_MAX or NOT_IN_CAMPAIGN.search(clean):
        raise bad_input(f"A campaign name must be at most {CAMPAIGN_MAX} printable characters.")
    return clean


def queue_share(
    outbox: Outbox, token: str, image_png: bytes, *, campaign: str | None = None
) -> str:
    """Writes the image next to the outbox (atomically, fsync'd) and queues the share;
    answers its client id. The QR code for `share_url(url, token)` may be shown now."""
    if not TOKEN_PATTERN.match(token):
        raise bad_input("A share token must be URL-safe base64 of at least 128 bits.")
    if not image_png:
        raise bad_input("There is no image to share.")
    return outbox.add_share(token, image_png, campaign=check_campaign(campaign))
