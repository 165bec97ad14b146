"""Loads the diffusion stack (torch, diffusers) on a background thread ahead of use.

Importing torch initialises large C extensions while holding the GIL, which freezes
the GUI thread for ~0.25 s on a 2-core machine (bench/ui_stall.py). Doing it once,
right after start-up when a diffusion model is installed, keeps that hitch out of
the render the user is watching and makes the first render start sooner.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QObject, Signal, Slot

from photoflux_desktop.engine.local_renderer import LocalRenderer
from photoflux_desktop.engine.logging_setup import get_logger
from photoflux_desktop.ui.background import BackgroundJob, start_job

log = get_logger("photoflux.ui.preload")


def _warm(renderer: LocalRenderer) -> None:
    _ = renderer.diffusion  # imports torch + diffusers once


def warm_instant(renderer: LocalRenderer) -> None:
    """One tiny instant render and encode: OpenCV's import and first filter, colour
    profiles and the PNG writer start up here, not in the first render the user times."""
    from PIL import Image

    from photoflux_desktop.engine.output import encode_bytes
    from photoflux_desktop.engine.presets import bundled_presets
    from photoflux_desktop.engine.request import RenderRequest

    style = next(p.id for p in bundled_presets().values() if p.instant is not None)
    image = Image.new("RGB", (64, 48), (128, 96, 64))
    result = renderer.render(RenderRequest(image=image, style_id=style, model="instant", seed=0))
    encode_bytes(result.image, "PNG", {})
    result.image.copy().thumbnail((16, 16))


class EnginePreloader(QObject):
    finished = Signal()

    def __init__(self, renderer: LocalRenderer) -> None:
        super().__init__()
        self.renderer = renderer
        self._job: BackgroundJob | None = None
        self.done = False
        self.instant_warm = False  # the instant engine has run once
        self._instant_job: BackgroundJob | None = None

    def warm_instant(self) -> bool:
        """Warm the instant engine in the background (after the window shows)."""
        if self.instant_warm or self._instant_job is not None:
            return False
        self._instant_job = start_job(
            partial(warm_instant, self.renderer),
            returned=self._instant_finished,
            errored=self._instant_failed,
        )
        return True

    @Slot(object)
    def _instant_finished(self, _: object) -> None:
        self.instant_warm, self._instant_job = True, None

    @Slot(object)
    def _instant_failed(self, exc: BaseException) -> None:
        log.warning("instant_warm_failed", error=str(exc)[:200])
        self._instant_job = None

    def start(self) -> bool:
        if self.done or self._job is not None:
            return False
        self._job = start_job(
            partial(_warm, self.renderer), returned=self._finish, errored=self._failed
        )
        return True

    @Slot(object)
    def _failed(self, exc: BaseException) -> None:
        # without the diffusion extra there is nothing to warm; the render will say why
        if not isinstance(exc, ImportError):
            log.warning("preload_failed", error=str(exc)[:200])
        self._finish(None)

    @Slot(object)
    def _finish(self, _: object) -> None:
        self.done = True
        self._job = None
        self.finished.emit()

    def wait(self, timeout_ms: int = 60000) -> None:
        if self._job is not None:
            self._job.wait(timeout_ms)
