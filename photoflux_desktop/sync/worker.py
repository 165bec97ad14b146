"""Background sync for the desktop app: a plain thread that drains the outbox every
`interval_s`, sooner when woken (a lead was just recorded), and stops on request.
Qt-free: the window reads `last` (or passes `on_report`) and shows it.

A refused token stops the thread (sending is pointless until the user connects again);
an unreachable cloud only delays the next pass, and items whose send failed wait for
their own next-attempt time."""

from __future__ import annotations

import threading
from collections.abc import Callable

from photoflux_desktop.sync.client import CloudClient
from photoflux_desktop.sync.consent import refresh_texts
from photoflux_desktop.sync.drain import Drainer, DrainReport
from photoflux_desktop.sync.link import CloudLink
from photoflux_desktop.sync.outbox import Outbox


class SyncWorker:
    def __init__(
        self,
        outbox: Outbox,
        link: CloudLink,
        *,
        interval_s: float = 30.0,
        on_report: Callable[[DrainReport], None] | None = None,
    ) -> None:
        self.outbox = outbox
        self.link = link
        self.interval_s = interval_s
        self.on_report = on_report
        self.last: DrainReport | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="photoflux-sync", daemon=True)

    def start(self) -> SyncWorker:
        self._thread.start()
        return self

    def wake(self) -> None:
        """Send now rather than at the next interval (e.g. a lead was just recorded)."""
        self._wake.set()

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stops after the request in flight; everything unsent stays in the outbox."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        with CloudClient(self.link.url, self.link.token) as client:
            texts_fresh = False
            while not self._stop.is_set():
                self._wake.clear()
                report = Drainer(self.outbox, client, honour_schedule=True).run()
                self.last = report
                if self.on_report is not None:
                    self.on_report(report)
                if report.stopped == "token_refused":
                    return
                if report.ok and not texts_fresh:
                    # the studio's consent texts for the lead form (cached for offline)
                    texts_fresh = refresh_texts(client, self.link.url) is not None
                self._wake.wait(self.interval_s)
