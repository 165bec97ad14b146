"""A small render queue: many (photo, style) items, one at a time, off the GUI thread.

Used for "All styles" (one photo, every style: instant looks first, they take a tenth
of a second each; diffusion ones after) and for one style over a folder of photos.
Each item runs as a background job (ui/background.py, the thread the render controller
uses), loading its photo there too, so a folder of large photos never blocks the
window. A broken file fails its own item, not the batch. Items are never run while the
window's own render is busy: the renderer is used by one job at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import partial
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QObject, Signal, Slot

from photoflux_desktop.engine.errors import PhotoFluxError
from photoflux_desktop.engine.intake import load_photo
from photoflux_desktop.engine.library import Library, LibraryEntry
from photoflux_desktop.engine.logging_setup import get_logger
from photoflux_desktop.engine.request import (
    CancelToken,
    Renderer,
    RenderRequest,
    RenderResult,
    Status,
    ignore_progress,
)
from photoflux_desktop.ui.background import BackgroundJob, start_job
from photoflux_desktop.ui.render_controller import RenderController

log = get_logger("photoflux.ui.batch")
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".gif", ".bmp"}


class ItemState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass
class BatchItem:
    style_id: str
    source_name: str
    model: str | None  # "instant", a model id, or None (automatic)
    path: Path | None = None  # loaded on the worker thread
    image: Image.Image | None = None  # already open (the current photo)
    state: ItemState = ItemState.QUEUED
    message: str = ""
    entry: LibraryEntry | None = None
    thumb: Image.Image | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return f"{self.style_id} · {self.source_name}"


def folder_photos(folder: Path) -> list[Path]:
    """The photos of a folder by name (not its subfolders); anything else is skipped."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)


def _run_item(
    renderer: Renderer, library: Library, base: RenderRequest, item: BatchItem, cancel: CancelToken
) -> tuple[RenderResult, LibraryEntry | None]:
    """Worker thread: load (if needed), render, keep in the library with its source."""
    image = item.image if item.image is not None else load_photo(str(item.path), 2048).image
    scaled = image
    if max(image.size) > base.max_side:
        scaled = image.copy()
        scaled.thumbnail((base.max_side, base.max_side), Image.Resampling.LANCZOS)
    request = replace(base, image=scaled, style_id=item.style_id, model=item.model)
    result = renderer.render(request, ignore_progress, cancel)
    entry = None
    if result.status is Status.COMPLETED:
        entry = library.add(result, item.source_name, source=image)
    return result, entry


class BatchQueue(QObject):
    itemChanged = Signal(int)  # index into items
    entryAdded = Signal(object)  # LibraryEntry
    changed = Signal()  # items added or the queue drained

    def __init__(self, renderer: Renderer, library: Library, controller: RenderController):
        super().__init__()
        self.renderer, self.library, self.controller = renderer, library, controller
        self.items: list[BatchItem] = []
        self._bases: list[RenderRequest] = []
        self._job: BackgroundJob | None = None
        self._running: int | None = None
        self._cancel: CancelToken | None = None
        # a quick job waiting for the renderer (an instant-look click) goes between items
        self.yield_to: Callable[[], bool] = lambda: False
        controller.idle.connect(self._next)  # the window's render ended: our turn

    @property
    def busy(self) -> bool:
        return self._job is not None or any(i.state is ItemState.QUEUED for i in self.items)

    @property
    def rendering(self) -> bool:
        """An item is on the renderer right now."""
        return self._job is not None

    def add(self, items: list[BatchItem], base: RenderRequest) -> None:
        """Queue items; `base` gives every setting but the photo, style and model."""
        base = replace(base, previews=False)
        self.items.extend(items)
        self._bases.extend([base] * len(items))
        self.changed.emit()
        self._next()

    def cancel(self, index: int | None = None) -> None:
        """Cancel one item, or (None) everything still queued or running."""
        indexes = range(len(self.items)) if index is None else [index]
        for i in indexes:
            item = self.items[i]
            if item.state is ItemState.QUEUED:
                self._set(i, ItemState.CANCELLED)
            elif item.state is ItemState.RUNNING and self._cancel is not None:
                self._cancel.cancel()
        self.changed.emit()

    def clear_finished(self) -> None:
        keep = [i for i, item in enumerate(self.items) if item.state in _LIVE]
        self.items = [self.items[i] for i in keep]
        self._bases = [self._bases[i] for i in keep]
        if self._running is not None:
            self._running = keep.index(self._running)
        self.changed.emit()

    def wait(self, timeout_ms: int = 30000) -> bool:
        return self._job.wait(timeout_ms) if self._job else True

    @Slot()
    def resume(self) -> None:
        """Whatever the queue yielded to has ended without a render: go on."""
        self._next()

    def _next(self) -> None:
        if self._job is not None or self.controller.busy or self.yield_to():
            return
        index = next((i for i, it in enumerate(self.items) if it.state is ItemState.QUEUED), None)
        if index is None:
            self.changed.emit()
            return
        self._running, self._cancel = index, CancelToken()
        self._set(index, ItemState.RUNNING)
        job = partial(_run_item, self.renderer, self.library, self._bases[index], self.items[index])
        self._job = start_job(
            partial(job, self._cancel), returned=self._returned, errored=self._errored
        )

    def _returned(self, outcome: tuple[RenderResult, LibraryEntry | None]) -> None:
        result, entry = outcome
        index = self._end()
        item = self.items[index]
        if result.status is Status.CANCELLED:
            self._set(index, ItemState.CANCELLED)
        else:
            item.entry = entry
            thumb = result.image.copy()
            thumb.thumbnail((256, 256))
            item.thumb = thumb
            self._set(index, ItemState.DONE)
            if entry is not None:
                self.entryAdded.emit(entry)
        self._next()

    def _errored(self, exc: BaseException) -> None:
        index = self._end()
        if isinstance(exc, PhotoFluxError):
            message = exc.error.message
        else:  # one bad item never stops the queue
            log.error("batch_item_failed", exc_info=exc)
            message = f"Failed: {exc}"
        self._set(index, ItemState.FAILED, message)
        self._next()

    def _end(self) -> int:
        index = self._running
        self._job, self._running, self._cancel = None, None, None
        assert index is not None
        return index

    def _set(self, index: int, state: ItemState, message: str = "") -> None:
        self.items[index].state = state
        self.items[index].message = message
        self.itemChanged.emit(index)


_LIVE = (ItemState.QUEUED, ItemState.RUNNING)
