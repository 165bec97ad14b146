"""Usage events from the window into the outbox: what happened, never who it happened
to. Properties are style ids, model ids, timings and formats only. The analytics
opt-out (settings) silences all of them; leads are not events and are never affected.

Public API (the kiosk reuses it): `AnalyticsRecorder(outbox, settings)`, `record(name,
**properties)`, `campaign` (tags every event while set), `watch_window(window)`."""

from __future__ import annotations

import re
import sqlite3
import time
import uuid
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from photoflux_desktop.engine.errors import Error, PhotoFluxError
from photoflux_desktop.engine.logging_setup import get_logger
from photoflux_desktop.engine.settings import Settings
from photoflux_desktop.sync.events import event_body
from photoflux_desktop.sync.outbox import Outbox

# names from sync.events.EVENT_NAMES (the allow-list the cloud shares)
APP_OPENED = "app_opened"
PHOTO_LOADED = "photo_loaded"
STYLE_SELECTED = "style_selected"
RENDER_STARTED = "render_started"
RENDER_FINISHED = "render_finished"
RENDER_CANCELLED = "render_cancelled"
RENDER_FAILED = "render_failed"
EXPORTED = "export"
LEAD_SUBMITTED = "lead_submitted"
EMAIL_REQUESTED = "email_requested"
QR_SHOWN = "qr_shown"
PRINTED = "print"

log = get_logger("photoflux.ui.analytics")
Value = str | int | float | bool | None
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")  # the cloud's property key rule


def model_label(model: str | None) -> str | None:
    """A hub id or catalog id as it is; a model folder on disk only as 'local' (its path
    may hold the user's name)."""
    if model is None:
        return None
    if model.startswith(("/", "~", ".")) or "\\" in model or ":" in model:
        return "local"
    return model


class AnalyticsRecorder(QObject):
    def __init__(
        self,
        outbox: Callable[[], Outbox],
        settings: Callable[[], Settings],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._outbox = outbox
        self._settings = settings
        self.session = uuid.uuid4().hex  # one app run; not tied to a person
        self.campaign: str | None = None
        self._render_started: float | None = None
        self._opened = False
        self.written = 0  # events written in this run (tests and the bench read it)

    @property
    def enabled(self) -> bool:
        return self._settings().analytics_enabled

    def record(self, name: str, **properties: Value) -> str | None:
        """Writes one event (committed before it returns); None when opted out."""
        if not self.enabled:
            return None
        try:
            body = event_body(name, self.session, campaign=self.campaign, **properties)
        except PhotoFluxError as exc:
            # a usage event is never worth interrupting anyone: dropped, and logged
            log.warning("usage event dropped", event=name, reason=exc.error.message)
            return None
        try:
            event_id = self._outbox().add_event(body)
        except (OSError, sqlite3.Error) as exc:  # a full or read-only disk: no event
            log.warning("usage event not written", event=name, error=str(exc))
            return None
        self.written += 1
        return event_id

    # -- the window's signals -----------------------------------------------------
    def watch_window(self, window: Any) -> None:
        """Connects to the signals the main window already has."""
        window.gallery.styleChosen.connect(self.style_selected)
        controller = window.controller
        controller.started.connect(lambda: self.render_started(window))
        controller.finished.connect(lambda result, _entry: self.render_finished(result))
        controller.cancelled.connect(lambda: self.render_ended(RENDER_CANCELLED))
        controller.failed.connect(self.render_failed)
        window.photoLoaded.connect(lambda: self.record(PHOTO_LOADED))
        window.exported.connect(lambda fmt: self.record(EXPORTED, format=fmt))

    def app_opened(self) -> None:
        self._opened = True
        self.record(APP_OPENED)

    def style_selected(self, style: str) -> None:
        # the window selects its default style while it starts: that is nobody's choice
        if self._opened:
            self.record(STYLE_SELECTED, style=style)

    def render_started(self, window: Any) -> None:
        self._render_started = time.monotonic()
        self.record(
            RENDER_STARTED,
            style=window.gallery.current_style(),
            family=window.params.family(),
        )

    def render_finished(self, result: Any) -> None:
        self._render_started = None
        timings = {
            f"{key}_s": round(float(value), 3)
            for key, value in result.timings.items()
            if _KEY.match(f"{key}_s")
        }
        self.record(
            RENDER_FINISHED,
            style=result.parameters.style,
            model=model_label(result.model),
            backend=result.backend,
            steps=result.parameters.steps,
            **timings,
        )

    def render_failed(self, error: Error) -> None:
        self.render_ended(RENDER_FAILED, kind=error.kind.value)

    def render_ended(self, name: str, **properties: Value) -> None:
        if self._render_started is not None:
            properties["elapsed_s"] = round(time.monotonic() - self._render_started, 3)
        self._render_started = None
        self.record(name, **properties)
