"""Instant looks on the user's own photo: tile previews in the background, apply on click.

When a photo opens, every preset's instant look is rendered as a small square preview
on a worker thread (engine `look_previews`) and lands on its tile as it is ready; opening
another photo cancels the batch, and a stale preview that still arrives is dropped.
Clicking an "Instant" tile applies that look to the photo at the chosen size through
the RenderController, so the result is filed in the library like any render. Clicking
an "AI" tile only selects it: Render makes it with a diffusion model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from PIL import Image
from PySide6.QtCore import QObject, QThread, Signal, Slot

from photoflux_desktop.engine.errors import Error, ErrorKind, PhotoFluxError
from photoflux_desktop.engine.instant_renderer import PREVIEW_SEED, look_previews
from photoflux_desktop.engine.logging_setup import get_logger
from photoflux_desktop.engine.presets import Preset
from photoflux_desktop.engine.request import CancelToken, RenderRequest
from photoflux_desktop.ui.background import start_job
from photoflux_desktop.ui.images import pil_to_qimage
from photoflux_desktop.ui.render_controller import RenderController
from photoflux_desktop.ui.widgets.style_gallery import StyleGallery

log = get_logger("photoflux.ui.looks")

PREVIEW_SIDE = 192  # px; tiles are ~100-200 px wide


def _render_previews(
    image: Image.Image,
    presets: list[Preset],
    cancel: CancelToken,
    batch: int,
    landed: Callable[[int, str, object], None],
) -> None:
    """Worker thread: each look as a QImage, handed to the GUI thread as it is ready."""
    try:
        for style_id, look in look_previews(image, presets, PREVIEW_SIDE, cancel):
            landed(batch, style_id, pil_to_qimage(look))
    except Exception as exc:  # previews are a convenience: tiles keep their samples
        log.warning("look_previews_failed", error=str(exc)[:200])


def _instant_request(image: Image.Image, style_id: str, max_side: int) -> RenderRequest:
    """Worker thread: the photo at the chosen size (resizing 2048 px takes tens of ms)."""
    if max(image.size) > max_side:
        image = image.copy()
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    # the tiles' seed: the result is the look its tile promised
    return RenderRequest(
        image=image, style_id=style_id, model="instant", seed=PREVIEW_SEED, previews=False
    )


class _PreviewThread(QThread):
    """One batch of previews on its own thread: not a pool job, so opening a photo neither
    pays a first-job import on the GUI thread nor takes the pool thread a
    render needs."""

    def __init__(self, work: Callable[[], None]) -> None:
        super().__init__()
        self._work = work

    def run(self) -> None:
        self._work()


class InstantLooks(QObject):
    status = Signal(str)  # a line for the status bar
    failed = Signal(object)  # Error, for the error banner
    previewsShown = Signal(float)  # seconds from opening the photo to the last tile shown
    _landed = Signal(int, str, object)  # emitted on the worker thread, queued to this one
    settled = Signal()  # a click ended without a render: whoever yielded to it goes on

    def __init__(
        self,
        gallery: StyleGallery,
        controller: RenderController,
        presets: dict[str, Preset],
        max_side: Callable[[], int],
    ) -> None:
        super().__init__()
        self.gallery = gallery
        self.controller = controller
        self.presets = presets
        self.max_side = max_side
        self.image: Image.Image | None = None
        self.source_name = "photo"
        self._batch = 0
        self._cancel: CancelToken | None = None
        self._threads: list[_PreviewThread] = []  # kept alive until they end
        self._opened_at = 0.0
        self._waiting: set[str] = set()
        self._pending: str | None = None  # a click that waits for the running render
        self._applying: str | None = None
        # another job on the renderer (the window's batch queue): a click waits for it
        self.blocked: Callable[[], bool] = lambda: False
        self._landed.connect(self._on_landed)
        gallery.lookActivated.connect(self.activate)
        controller.idle.connect(self._run_pending)

    # -- previews ----------------------------------------------------------------
    def photo_opened(self, image: Image.Image, source_name: str) -> None:
        """A new photo: replace the batch of previews, forget a click meant for the last one."""
        self.image, self.source_name = image, source_name
        self._pending = None
        if self._cancel is not None:
            self._cancel.cancel()
        self._batch += 1
        self._cancel = CancelToken()
        self._opened_at = time.perf_counter()
        ordered = [self.presets[style_id] for style_id in self.gallery.visible_styles()]
        ordered += [p for p in self.presets.values() if p not in ordered]  # hidden ones last
        self._waiting = {p.id for p in ordered if p.instant is not None}
        thread = _PreviewThread(
            partial(_render_previews, image, ordered, self._cancel, self._batch, self._landed.emit)
        )
        self._threads.append(thread)
        thread.finished.connect(self._forget_thread)
        thread.start()

    @property
    def previews_pending(self) -> bool:
        return bool(self._waiting)

    @Slot(int, str, object)
    def _on_landed(self, batch: int, style_id: str, image: object) -> None:
        if batch != self._batch:
            return  # a preview of the photo before
        self.gallery.set_preview(style_id, image)
        self._waiting.discard(style_id)
        if not self._waiting:
            self.previewsShown.emit(time.perf_counter() - self._opened_at)

    def wait(self, timeout_ms: int = 10000) -> bool:
        """Stop the previews (closing the window); True once their thread has ended."""
        if self._cancel is not None:
            self._cancel.cancel()
        return all(thread.wait(timeout_ms) for thread in list(self._threads))

    @Slot()
    def _forget_thread(self) -> None:
        self._threads = [thread for thread in self._threads if thread.isRunning()]

    # -- clicks ------------------------------------------------------------------
    @Slot(str)
    def activate(self, style_id: str) -> None:
        """A tile was clicked: apply an instant look now; say what an AI style needs."""
        preset = self.presets[style_id]
        if preset.kind != "instant":
            if self.gallery.ai_ready:
                self.status.emit(f"{preset.name} is an AI style: press Render to create it")
            else:
                self.status.emit(
                    f"{preset.name} needs an AI model (Models…); until then Render gives "
                    "its instant approximation shown on the tile"
                )
            return
        if self.image is None:
            self.failed.emit(
                Error(
                    ErrorKind.BAD_INPUT,
                    "Open a photo first.",
                    "Drop one on the window, or press Ctrl+O.",
                )
            )
            return
        if self.controller.busy or self._applying is not None or self.blocked():
            if style_id != self._applying:
                self._pending = style_id  # the latest click wins
            if self.blocked():
                self.status.emit(f"{preset.name} applies when the batch's current photo is done")
            return
        self._start(style_id)

    def _start(self, style_id: str) -> None:
        self._applying = style_id
        self.status.emit(f"Applying {self.presets[style_id].name}…")
        start_job(
            partial(_instant_request, self.image, style_id, self.max_side()),
            returned=partial(self._render, self._batch),
            errored=self._request_failed,
        )

    def _render(self, batch: int, request: RenderRequest) -> None:
        self._applying = None
        if batch != self._batch:
            self.settled.emit()
            return  # another photo was opened meanwhile
        if self.controller.busy or self.blocked():  # a render or batch item started meanwhile
            self._pending = self._pending or request.style_id  # this click runs after it
            return
        self._applying = request.style_id
        self.controller.start(request, self.source_name)

    @Slot(object)
    def _request_failed(self, exc: BaseException) -> None:
        self._applying = None
        self.settled.emit()
        if isinstance(exc, PhotoFluxError):
            self.failed.emit(exc.error)
        else:
            log.error("instant_request_failed", exc_info=exc)
            self.failed.emit(Error(ErrorKind.INTERNAL, f"The look could not be applied: {exc}"))

    def wants_turn(self) -> bool:
        """A click is waiting or being applied: the batch lets it go first."""
        return self._pending is not None or self._applying is not None

    @Slot()
    def resume(self) -> None:
        """The renderer may be free (a batch item ended): apply a waiting click now."""
        if self._applying is not None or self.controller.busy or self.blocked():
            return
        if self._pending is not None and self.image is None:
            self._pending = None
            self.settled.emit()
        elif self._pending is not None:
            self._run_pending()

    @Slot()
    def _run_pending(self) -> None:
        self._applying = None
        pending, self._pending = self._pending, None
        if pending is not None and self.image is not None:
            self._start(pending)
