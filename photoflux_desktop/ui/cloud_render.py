"""The "Render in the cloud" check box under Render (and a Render-menu action) that sends
renders to the connected studio's cloud through the same controller, so progress,
previews, cancel and the gallery work as for local renders.

It is offered only while a studio is connected, and starts checked when this computer has
no capable GPU. A render asked for while the studio cannot be reached waits on disk
(sync/cloud_queue.py) and is submitted when the link is back; its result is filed in the
library and added to the gallery strip."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QCheckBox

from photoflux_desktop.engine.errors import Error
from photoflux_desktop.engine.logging_setup import get_logger
from photoflux_desktop.engine.request import Renderer, RenderRequest
from photoflux_desktop.sync.cloud_routing import RoutedRenderer, runs_in_cloud
from photoflux_desktop.sync.outbox import outbox_path
from photoflux_desktop.ui.background import BackgroundJob, start_job

if TYPE_CHECKING:
    from photoflux_desktop.sync.cloud_queue import CloudRenderQueue
    from photoflux_desktop.sync.cloud_renderer import QueueReport

log = get_logger("photoflux.ui.cloud")
RETRY_MS = 5000  # how often queued cloud renders are tried while some wait


def has_capable_gpu() -> bool:
    from photoflux_desktop.engine.machine import probe_machine

    return probe_machine().kind in ("cuda", "mps")


class CloudRenderOption(QObject):
    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.sync = window.studio.sync
        self.checkbox = QCheckBox("Render in the cloud")
        self.checkbox.setToolTip("Render on the studio's cloud instead of this computer")
        self.checkbox.setVisible(False)
        window.progress.layout().insertWidget(1, self.checkbox)  # right under Render
        self.action = QAction("Render in the &cloud", window)
        self.action.setCheckable(True)
        self.action.setVisible(False)
        self.checkbox.toggled.connect(self.action.setChecked)
        self.action.toggled.connect(self.checkbox.setChecked)
        self.checkbox.toggled.connect(self._toggled)
        # clicked/triggered come from the user only: their choice then stands
        self.checkbox.clicked.connect(self._chosen)
        self.action.triggered.connect(self._chosen)
        self.offered = False
        self.enabled = False  # read on the render thread: a plain bool, not the widget
        self._user_choice: bool | None = None
        self._gpu: bool | None = None
        self._queue: CloudRenderQueue | None = None
        self._cloud: Renderer | None = None
        self._submit_job: BackgroundJob | None = None
        self._queued_now = False
        controller = window.controller
        controller.renderer = RoutedRenderer(controller.renderer, self.cloud, self.use_cloud)
        controller.failed.connect(self._render_failed)
        controller.idle.connect(self._render_idle)
        self.sync.changed.connect(self._link_changed)
        self._timer = QTimer(self)
        self._timer.setInterval(RETRY_MS)
        self._timer.timeout.connect(self.submit_queued)

    # -- the choice ---------------------------------------------------------------
    def use_cloud(self, request: RenderRequest) -> bool:
        return self.offered and self.enabled and runs_in_cloud(request)

    def _toggled(self, checked: bool) -> None:
        self.enabled = checked

    def _chosen(self, checked: bool) -> None:
        self._user_choice = checked

    def _link_changed(self, snapshot: dict[str, Any]) -> None:
        offered = bool(snapshot.get("linked")) and not snapshot.get("revoked")
        if offered != self.offered:
            self.offered = offered
            self.checkbox.setVisible(offered)
            self.action.setVisible(offered)
        if offered and self._user_choice is None:
            if self._gpu is None:
                self._gpu = has_capable_gpu()  # probed once (no torch import)
            self.checkbox.setChecked(not self._gpu)
        if offered and snapshot.get("state") == "online":
            self.submit_queued()

    # -- the renderer and its queue -----------------------------------------------
    def queue(self) -> CloudRenderQueue:
        if self._queue is None:
            from photoflux_desktop.sync.cloud_queue import CloudRenderQueue

            self._queue = CloudRenderQueue()
        return self._queue

    def cloud(self) -> Renderer:
        """Made on the first cloud render: httpx and stamina load then, not at start-up."""
        if self._cloud is None:
            from photoflux_desktop.sync.cloud_renderer import CloudRenderer

            self._cloud = CloudRenderer(
                self.sync.link, queue=self.queue, source_name=lambda: self.window.source_name
            )
        return self._cloud

    def _render_failed(self, error: Error) -> None:
        self._queued_now = bool(error.details.get("queued"))

    def _render_idle(self) -> None:
        if self._queued_now:  # after the window's own "Render failed"
            self._queued_now = False
            self.window.progress.set_status(
                "Queued for the studio's cloud: it renders when the studio is reachable"
            )
            self._timer.start()

    def waiting(self) -> int:
        if self._queue is None and not outbox_path().exists():
            return 0  # nothing was ever queued: do not create the file
        return self.queue().count_waiting()

    def submit_queued(self) -> bool:
        """One pass over the queued cloud renders, off the GUI thread."""
        link = self.sync.link()
        if self._submit_job is not None or link is None:
            return False
        if not self.waiting():
            self._timer.stop()
            return False
        from photoflux_desktop.sync.cloud_renderer import submit_waiting

        self._submit_job = start_job(
            partial(submit_waiting, self.queue(), link, self.window.library),
            returned=self._submitted,
            errored=self._submit_failed,
        )
        return True

    def _submitted(self, report: QueueReport) -> None:
        self._submit_job = None
        for entry in report.entries:
            if entry.id not in self.window.history.entry_ids():
                self.window.history.add_entry(entry)
        if report.entries:
            names = ", ".join(entry.source_name for entry in report.entries)
            self.window.progress.set_status(f"Cloud render ready in the gallery: {names}")
        if report.waiting:
            self._timer.start()
        else:
            self._timer.stop()

    def _submit_failed(self, exc: BaseException) -> None:
        self._submit_job = None
        log.error("cloud_queue_failed", exc_info=exc)

    def wait(self, timeout_ms: int = 30000) -> bool:
        return self._submit_job.wait(timeout_ms) if self._submit_job else True
