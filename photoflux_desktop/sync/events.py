"""Usage events as the outbox stores them: a name, the device's time, a session id and
a few plain properties. No personal data: the server refuses events that carry any."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def event_body(name: str, session: str, **properties: str | int | float | bool | None) -> dict:
    body: dict[str, Any] = {
        "name": name,
        "ts": datetime.now(UTC).isoformat(),
        "session": session,
        "properties": properties,
    }
    return body
