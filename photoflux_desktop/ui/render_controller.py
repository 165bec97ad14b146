"""Runs renders off the GUI thread and reports back through Qt signals.

The worker lives in its own QThread; engine callbacks emit signals, which Qt queues
to the GUI thread, so widgets are only touched there. Cancel sets the engine's
CancelToken and takes effect within one denoising step.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from photoflux_desktop.engine.errors import Error, ErrorKind, PhotoFluxError
from photoflux_desktop.engine.library import Library
from photoflux_desktop.engine.logging_setup import get_logger
from photoflux_desktop.engine.request import (
    CancelToken,
    ProgressEvent,
    Renderer,
    RenderRequest,
    Stage,
    Status,
)

log = get_logger("photoflux.ui.render")


class _RenderWorker(QObject):
    progress = Signal(object)  # ProgressEvent
    done = Signal(object, object)  # RenderResult, LibraryEntry | None
    failed = Signal(object)  # Error

    def __init__(
        self,
        renderer: Renderer,
        request: RenderRequest,
        library: Library | None,
        source_name: str,
        cancel: CancelToken,
    ) -> None:
        super().__init__()
        self.renderer, self.request, self.library = renderer, request, library
        self.source_name, self.cancel = source_name, cancel

    @Slot()
    def run(self) -> None:
        try:
            result = self.renderer.render(self.request, self.progress.emit, self.cancel)
            entry = None
            if result.status is Status.COMPLETED and self.library is not None:
                entry = self.library.add(result, self.source_name)
                if self.request.prompt:
                    self.library.remember_prompt(self.request.prompt)
            self.done.emit(result, entry)
        except PhotoFluxError as exc:
            self.failed.emit(exc.error)
        except Exception as exc:  # the UI must survive anything a render throws
            log.error("render_failed", exc_info=exc)
            self.failed.emit(
                Error(
                    ErrorKind.INTERNAL,
                    f"Rendering failed: {exc}",
                    "Try again; if it keeps failing, run `photoflux doctor`.",
                )
            )


class RenderController(QObject):
    started = Signal()
    progress = Signal(object)  # ProgressEvent
    status = Signal(str)  # "denoising 3/8 · 4 s left"
    finished = Signal(object, object)  # RenderResult, LibraryEntry | None
    failed = Signal(object)  # Error
    cancelled = Signal()
    idle = Signal()

    def __init__(self, renderer: Renderer, library: Library | None = None) -> None:
        super().__init__()
        self.renderer = renderer
        self.library = library
        self._thread: QThread | None = None
        self._worker: _RenderWorker | None = None
        self._cancel: CancelToken | None = None
        self._step_times: list[float] = []

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def start(self, request: RenderRequest, source_name: str) -> bool:
        if self.busy:
            return False
        self._cancel = CancelToken()
        self._step_times = []
        thread = QThread()
        worker = _RenderWorker(self.renderer, request, self.library, source_name, self._cancel)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self._on_progress)
        worker.done.connect(self._on_done)
        worker.failed.connect(self._on_failed)
        self._thread, self._worker = thread, worker
        self.started.emit()
        thread.start()
        return True

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()
            self.status.emit("Cancelling…")

    def wait(self, timeout_ms: int = 30000) -> bool:
        return self._thread.wait(timeout_ms) if self._thread else True

    @Slot(object)
    def _on_progress(self, event: ProgressEvent) -> None:
        self.progress.emit(event)
        self.status.emit(self._describe(event))

    def _describe(self, event: ProgressEvent) -> str:
        if event.stage is Stage.DENOISING and event.total:
            self._step_times.append(time.perf_counter())
            text = f"Denoising step {event.step}/{event.total}"
            if len(self._step_times) >= 2:
                per_step = (self._step_times[-1] - self._step_times[0]) / (
                    len(self._step_times) - 1
                )
                text += f" · about {per_step * (event.total - event.step):.0f} s left"
            return text
        labels = {
            Stage.LOADING: "Loading the model…",
            Stage.ENCODING: "Preparing…",
            Stage.DECODING: "Finishing…",
            Stage.STYLING: "Applying the style…",
            Stage.DONE: "Done",
        }
        return event.message or labels.get(event.stage, event.stage.value)

    @Slot(object, object)
    def _on_done(self, result: Any, entry: Any) -> None:
        self._finish()
        if result.status is Status.CANCELLED:
            self.status.emit("Cancelled")
            self.cancelled.emit()
        else:
            self.finished.emit(result, entry)
        self.idle.emit()

    @Slot(object)
    def _on_failed(self, error: Error) -> None:
        # cancel is never an error: renderers return a CANCELLED result (see _on_done)
        self._finish()
        self.failed.emit(error)
        self.idle.emit()

    def _finish(self) -> None:
        thread = self._thread
        self._thread, self._worker, self._cancel = None, None, None
        if thread is not None:
            thread.quit()
            thread.wait()
            thread.deleteLater()
