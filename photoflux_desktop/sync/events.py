"""Usage events as the outbox stores them: a name from `EVENT_NAMES`, the device's
time, a session id, the campaign (event) the kiosk runs, and a few plain properties.

No personal data: `event_body` refuses property names that would hold it and string
values that look like an e-mail address (the server screens again, for phone numbers
and IP addresses too, and refuses the event)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from photoflux_desktop.engine.errors import bad_input
from photoflux_desktop.sync.share import check_campaign

# The allow-list the cloud accepts (cloud_api/api/schemas.py holds the same names plus
# older ones; tests/sync/test_studio_api.py keeps the two in step).
EVENT_NAMES: tuple[str, ...] = (
    "app_opened",
    "photo_loaded",
    "style_selected",
    "render_started",
    "render_finished",
    "render_cancelled",
    "render_failed",
    "export",
    "lead_submitted",
    "email_requested",
    "qr_shown",
    "print",
    "kiosk_session_started",
    "kiosk_session_ended",
)
PERSONAL_KEYS = frozenset(
    {"email", "e_mail", "mail", "name", "first_name", "last_name", "full_name", "phone"}
    | {"telephone", "address", "ip", "ip_address", "birthday", "dob"}
)
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
EMAIL_LIKE = re.compile(r"[^@\s]@[^@\s]+\.[a-z]{2,}", re.IGNORECASE)
MAX_PROPERTIES = 20

Value = str | int | float | bool | None


def personal_data_problem(properties: dict[str, Any]) -> str | None:
    """Why these properties may not leave the device, or None."""
    for key, value in properties.items():
        if key in PERSONAL_KEYS:
            return f"property {key!r} would hold personal data"
        if isinstance(value, str) and "@" in value and EMAIL_LIKE.search(value):
            return f"property {key!r} looks like an e-mail address"
    return None


def event_body(
    name: str, session: str, *, campaign: str | None = None, **properties: Value
) -> dict[str, Any]:
    """An event ready for `Outbox.add_event`. Raises bad input for a name outside
    `EVENT_NAMES`, a malformed property, or one that would carry personal data."""
    if name not in EVENT_NAMES:
        raise bad_input(f"'{name}' is not a known event name.")
    if len(properties) > MAX_PROPERTIES or not all(KEY.match(k) for k in properties):
        raise bad_input("Event properties: at most 20, named in lower_snake_case.")
    problem = personal_data_problem(properties)
    if problem is not None:
        raise bad_input(f"Event '{name}': {problem}; events carry no personal data.")
    body: dict[str, Any] = {
        "name": name,
        "ts": datetime.now(UTC).isoformat(),
        "session": session,
        "properties": properties,
    }
    campaign = check_campaign(campaign)
    if campaign is not None:
        body["campaign"] = campaign
    return body
