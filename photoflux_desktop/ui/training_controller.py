"""Runs a training job on its own thread and reports on the GUI thread.

Training runs for minutes to hours, so it gets a thread of its own rather than a slot
of the shared pool (renders must not wait behind it). Signals emitted from that thread
reach the dialog's slots queued, on the GUI thread.
"""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import QObject, Signal

from photoflux_desktop.engine.lazy import training
from photoflux_desktop.engine.logging_setup import get_logger
from photoflux_desktop.engine.request import CancelToken

log = get_logger("photoflux.ui.training")


class TrainingRunner(QObject):
    event = Signal(object)  # TrainingEvent
    finished = Signal(object)  # TrainingOutcome
    failed = Signal(object)  # the exception

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._cancel = CancelToken()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, job: Any) -> None:
        if self.running:
            raise RuntimeError("a training run is already going")
        self._cancel = CancelToken()
        self._thread = threading.Thread(
            target=self._run, args=(job,), name="photoflux-training", daemon=True
        )
        self._thread.start()

    def cancel(self) -> None:
        """Stops within a step; the trainer writes a checkpoint to resume from."""
        self._cancel.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def _run(self, job: Any) -> None:
        try:
            outcome = training().train(job, self.event.emit, self._cancel)
        except BaseException as exc:  # the dialog renders it; nothing escapes the thread
            log.warning("training_failed", error=f"{type(exc).__name__}: {exc}")
            self.failed.emit(exc)
        else:
            self.finished.emit(outcome)
