"""What `photoflux doctor` and the window show about sync: linked or not, what waits,
what failed, when the last sync happened and its last error."""

from __future__ import annotations

from typing import Any

from photoflux_desktop.engine.errors import PhotoFluxError
from photoflux_desktop.sync.link import current_link, keyring_backend
from photoflux_desktop.sync.outbox import KINDS, Outbox, outbox_path


def outbox_summary(outbox: Outbox) -> dict[str, Any]:
    counts = outbox.counts()
    return {
        "sent": {kind: counts[kind]["sent"] for kind in KINDS},
        "pending": {kind: counts[kind]["pending"] for kind in KINDS},
        "failed": {kind: counts[kind]["failed"] for kind in KINDS},
        "dropped_events": outbox.dropped_events(),
    }


def sync_status() -> dict[str, Any]:
    try:
        link = current_link()
        link_problem = None
    except PhotoFluxError as exc:
        link, link_problem = None, exc.error.message
    report: dict[str, Any] = {
        "linked": link is not None,
        "url": link.url if link else None,
        "credentials": link.source if link else None,
        "keyring": keyring_backend(),
        "link_problem": link_problem,
        "outbox": str(outbox_path()),
    }
    if not outbox_path().exists():  # doctor looks; it does not create files
        empty = dict.fromkeys(KINDS, 0)
        return report | {
            "sent": empty,
            "pending": empty,
            "failed": empty,
            "dropped_events": 0,
            "last_sync_at": None,
            "last_error": None,
        }
    with Outbox() as outbox:
        state = outbox.status()
        return (
            report
            | outbox_summary(outbox)
            | {
                "last_sync_at": state.get("last_sync_at"),
                "last_error": state.get("last_error"),
            }
        )
