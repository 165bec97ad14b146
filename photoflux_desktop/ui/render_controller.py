"""Runs renders off the GUI thread and reports back through Qt signals.

The render runs as a background job (ui/background.py). Engine progress callbacks
emit a signal of this controller from the worker thread, which Qt queues to the GUI
thread, as it does the worker's outcome, so widgets are only touched there. Cancel
sets the engine's CancelToken and takes effect within one denoising step.
"""

from __future__ import annotations

import hashlib
import json
import time
from functools import partial
from typing import Any

from PIL import Image
from PySide6.QtCore import QObject, Signal, Slot

from photoflux_desktop.engine.errors import Error, ErrorKind, PhotoFluxError
from photoflux_desktop.engine.library import Library, LibraryEntry
from photoflux_desktop.engine.logging_setup import get_logger
from photoflux_desktop.engine.request import (
    CancelToken,
    ProgressCallback,
    ProgressEvent,
    Renderer,
    RenderRequest,
    RenderResult,
    Stage,
    Status,
)
from photoflux_desktop.ui.background import BackgroundJob, start_job

log = get_logger("photoflux.ui.render")


def _sameness(request: RenderRequest, result: RenderResult, source_name: str) -> str:
    """Identifies an instant result: instant looks ignore the seed, so the same photo,
    style and settings give the same picture, which the library needs only once."""
    digest = hashlib.blake2b(request.image.tobytes(), digest_size=16)
    digest.update(repr(request.image.size).encode())
    params = {k: v for k, v in result.parameters.to_dict().items() if k != "seed"}
    digest.update(json.dumps(params, sort_keys=True, default=str).encode())
    digest.update(source_name.encode())
    return digest.hexdigest()


def _render_and_keep(
    renderer: Renderer,
    request: RenderRequest,
    *,
    library: Library | None,
    source_name: str,
    on_progress: ProgressCallback,
    cancel: CancelToken,
    kept: dict[str, str],
    source: Image.Image | None = None,
) -> tuple[RenderResult, LibraryEntry | None]:
    """The worker thread's job: render, then file a finished result in the library with
    the photo it was made from (`source`, else the request's own image), unless it is an
    instant result identical to one filed before (then that entry)."""
    result = renderer.render(request, on_progress, cancel)
    entry = None
    if result.status is Status.COMPLETED and library is not None:
        key = _sameness(request, result, source_name) if result.backend == "instant" else ""
        entry = library.get(kept[key]) if key in kept else None
        if entry is None:
            entry = library.add(result, source_name, source=source or request.image)
            if key:
                kept[key] = entry.id
        if request.prompt:
            library.remember_prompt(request.prompt)
    return result, entry


class RenderController(QObject):
    started = Signal()
    progress = Signal(object)  # ProgressEvent
    status = Signal(str)  # "denoising 3/8 · 4 s left"
    finished = Signal(object, object)  # RenderResult, LibraryEntry | None
    failed = Signal(object)  # Error
    cancelled = Signal()
    idle = Signal()
    _worker_progress = Signal(object)  # emitted on the worker thread, queued to this one

    def __init__(self, renderer: Renderer, library: Library | None = None) -> None:
        super().__init__()
        self.renderer = renderer
        self.library = library
        self._job: BackgroundJob | None = None
        self._cancel: CancelToken | None = None
        self._step_times: list[float] = []
        self._kept: dict[str, str] = {}  # instant results filed this session: key -> entry id
        self._started_at = 0.0
        # seconds from Render to the result filed and on its way to the screen: what the
        # user waited, first-use start-up included (the result's own timings leave it out)
        self.last_waited_s = 0.0
        self._worker_progress.connect(self._on_progress)

    @property
    def busy(self) -> bool:
        return self._job is not None

    def start(
        self, request: RenderRequest, source_name: str, source: Image.Image | None = None
    ) -> bool:
        if self.busy:
            return False
        self._started_at = time.perf_counter()
        self._cancel = CancelToken()
        self._step_times = []
        self.started.emit()
        self._job = start_job(
            partial(
                _render_and_keep,
                self.renderer,
                request,
                library=self.library,
                source_name=source_name,
                source=source,
                on_progress=self._worker_progress.emit,
                cancel=self._cancel,
                kept=self._kept,
            ),
            returned=self._on_returned,
            errored=self._on_errored,
        )
        return True

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()
            self.status.emit("Cancelling…")

    def wait(self, timeout_ms: int = 30000) -> bool:
        return self._job.wait(timeout_ms) if self._job else True

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

    @Slot(object)
    def _on_returned(self, outcome: tuple[RenderResult, LibraryEntry | None]) -> None:
        self._on_done(*outcome)

    @Slot(object)
    def _on_errored(self, exc: BaseException) -> None:
        if isinstance(exc, PhotoFluxError):
            self._on_failed(exc.error)
            return
        # the UI must survive anything a render throws
        log.error("render_failed", exc_info=exc)
        self._on_failed(
            Error(
                ErrorKind.INTERNAL,
                f"Rendering failed: {exc}",
                "Try again; if it keeps failing, restart PhotoFlux and try a smaller size.",
            )
        )

    def _on_done(self, result: Any, entry: Any) -> None:
        self.last_waited_s = time.perf_counter() - self._started_at
        self._finish()
        if result.status is Status.CANCELLED:
            self.status.emit("Cancelled")
            self.cancelled.emit()
        else:
            self.finished.emit(result, entry)
        self.idle.emit()

    def _on_failed(self, error: Error) -> None:
        # cancel is never an error: renderers return a CANCELLED result (see _on_done)
        self._finish()
        self.failed.emit(error)
        self.idle.emit()

    def _finish(self) -> None:
        self._job, self._cancel = None, None
