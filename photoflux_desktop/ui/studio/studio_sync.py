"""The app's side of studio sync: one outbox, the link to the studio (keyring, the
environment, or this session only), the background SyncWorker while linked, and a
snapshot of its state for the status bar.

The worker reports from its own thread; `_reported` is emitted there and Qt queues it to
this object's (the GUI) thread, so widgets are only touched there."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from photoflux_desktop.engine.errors import PhotoFluxError, bad_input
from photoflux_desktop.engine.logging_setup import get_logger
from photoflux_desktop.engine.settings import Settings
from photoflux_desktop.sync import link as sync_link
from photoflux_desktop.sync.link import CloudLink
from photoflux_desktop.sync.outbox import KINDS, Outbox, outbox_path

if TYPE_CHECKING:
    from photoflux_desktop.sync.drain import DrainReport
    from photoflux_desktop.sync.worker import SyncWorker

log = get_logger("photoflux.ui.studio")
STOP_TIMEOUT_S = 2.0  # quitting never waits on a slow network; the outbox keeps the rest
REFRESH_MS = 5000


class StudioSync(QObject):
    changed = Signal(dict)  # the snapshot(), whenever it may have changed
    _reported = Signal(object)  # DrainReport, emitted on the worker's thread

    def __init__(
        self,
        settings: Callable[[], Settings],
        *,
        interval_s: float = 30.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self.interval_s = interval_s
        self._outbox: Outbox | None = None
        self._session_link: CloudLink | None = None
        self._link: CloudLink | None = None
        self._link_loaded = False
        self.worker: SyncWorker | None = None
        self.last_report: DrainReport | None = None
        self.revoked = False
        self.link_problem: str | None = None
        self._reported.connect(self._on_report)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)

    # -- outbox and link ----------------------------------------------------------
    @property
    def outbox(self) -> Outbox:
        """Opened on first use: an app that never records anything creates no file."""
        if self._outbox is None:
            self._outbox = Outbox()
        return self._outbox

    def link(self) -> CloudLink | None:
        """The link in use; read from the environment / settings / keyring once, at
        start, connect and disconnect (a keyring may be slow or ask for a password)."""
        if not self._link_loaded:
            self.reload_link()
        return self._link

    def reload_link(self) -> CloudLink | None:
        try:
            stored = sync_link.current_link()
            self.link_problem = None
        except PhotoFluxError as exc:
            stored, self.link_problem = None, exc.error.message
        self._link = stored or self._session_link
        self._link_loaded = True
        return self._link

    @property
    def session_only(self) -> bool:
        return self._session_link is not None and self.link() is self._session_link

    @staticmethod
    def check_token(url: str, token: str) -> str | None:
        """Asks the studio who this token is (run it off the GUI thread). Raises
        PhotoFluxError when the studio refuses it; answers a note when the studio cannot
        be asked now (the token is then stored unchecked)."""
        problem = sync_link.verify_token(url, token)
        if problem is None:
            return None
        return f"The token could not be checked now ({problem}); it was stored anyway."

    def connect_to(self, url: str, token: str) -> str:
        """Links this install; answers where the token went. Raises PhotoFluxError for a
        bad URL or an empty token. Without a keyring backend the token is kept in memory
        for this session only and never written anywhere."""
        url = sync_link.check_url(url)
        token = token.strip()
        if not token:
            raise bad_input("The device token is empty.", "Copy it from the studio dashboard.")
        self.stop()
        where = "session"
        if sync_link.keyring_backend() is not None:
            from keyring.errors import KeyringError

            try:
                sync_link.connect(url, token)
                where = "keyring"
            except KeyringError as exc:  # locked or broken keyring: this session only
                log.warning("keyring refused the token; kept for this session", error=str(exc))
        self._session_link = (
            None if where == "keyring" else CloudLink(url, token, "session")  # type: ignore[arg-type]
        )
        self._settings().cloud_url = url if where == "keyring" else None
        self.revoked, self.last_report = False, None
        self.reload_link()
        self.start()
        return where

    def disconnect(self) -> None:
        self.stop()
        sync_link.disconnect()
        self._session_link = None
        self._settings().cloud_url = None
        self.revoked, self.last_report = False, None
        self.reload_link()
        self.refresh()

    # -- the background worker ----------------------------------------------------
    def start(self) -> bool:
        """Starts sending when linked (and the token was not refused)."""
        self._timer.start()
        link = self.link()
        if link is None or self.revoked or (self.worker and self.worker.running):
            self.refresh()
            return False
        # httpx and stamina load here, after the window is up, not at start-up
        from photoflux_desktop.sync.worker import SyncWorker

        self.worker = SyncWorker(
            self.outbox, link, interval_s=self.interval_s, on_report=self._reported.emit
        ).start()
        self.refresh()
        return True

    def wake(self) -> None:
        if self.worker is not None and self.worker.running:
            self.worker.wake()
        self.refresh()

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        if self.worker is not None:
            self.worker.stop(timeout)
            self.worker = None

    def shutdown(self) -> None:
        """At quit: stop fast; close the outbox only if the worker has let go of it."""
        self._timer.stop()
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.stop(STOP_TIMEOUT_S)
            if worker.running:
                return  # a daemon thread mid-request: the process exit ends it
        if self._outbox is not None:
            self._outbox.close()
            self._outbox = None

    def _on_report(self, report: DrainReport) -> None:
        self.last_report = report
        if report.stopped == "token_refused":
            self.revoked = True  # the worker has stopped itself; the outbox is kept
        self.refresh()

    # -- state --------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        link = self.link()
        state: dict[str, Any] = {
            "linked": link is not None,
            "url": link.url if link else None,
            "session_only": self.session_only,
            "revoked": self.revoked,
            "link_problem": self.link_problem,
            "state": self._state(link),
            "pending": 0,
            "failed": 0,
            "last_sync_at": None,
            "last_error": None,
        }
        if self._outbox is None and not _outbox_exists():
            return state
        counts = self.outbox.counts()
        stored = self.outbox.status()
        state["pending"] = sum(counts[kind]["pending"] for kind in KINDS)
        state["failed"] = sum(counts[kind]["failed"] for kind in KINDS)
        state["last_sync_at"] = stored.get("last_sync_at")
        state["last_error"] = stored.get("last_error")
        return state

    def _state(self, link: CloudLink | None) -> str:
        if link is None:
            return "not_connected"
        if self.revoked:
            return "revoked"
        report = self.last_report
        if report is None:
            return "connecting"
        return "online" if report.ok else "offline"

    def refresh(self) -> None:
        self.changed.emit(self.snapshot())


def _outbox_exists() -> bool:
    return outbox_path().exists()


def ago(stamp: float | None) -> str:
    """'never', 'just now', '5 min ago', '3 h ago'."""
    if not stamp:
        return "never"
    seconds = max(time.time() - stamp, 0)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    return f"{int(seconds // 3600)} h ago"
