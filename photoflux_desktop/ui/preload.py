"""Loads the diffusion stack (torch, diffusers) on a background thread ahead of use.

Importing torch initialises large C extensions while holding the GIL, which freezes
the GUI thread for ~0.25 s on a 2-core machine (bench/ui_stall.py). Doing it once,
right after start-up when a diffusion model is installed, keeps that hitch out of
the render the user is watching and makes the first render start sooner.
"""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QObject, QThread, Signal, Slot

from photoflux_desktop.engine.local_renderer import LocalRenderer


class _Preloader(QObject):
    done = Signal()

    def __init__(self, renderer: LocalRenderer) -> None:
        super().__init__()
        self.renderer = renderer

    @Slot()
    def run(self) -> None:
        # without the diffusion extra there is nothing to warm
        with contextlib.suppress(ImportError):
            _ = self.renderer.diffusion  # imports torch + diffusers once
        self.done.emit()


class EnginePreloader(QObject):
    finished = Signal()

    def __init__(self, renderer: LocalRenderer) -> None:
        super().__init__()
        self.renderer = renderer
        self._thread: QThread | None = None
        self._worker: _Preloader | None = None
        self.done = False

    def start(self) -> bool:
        if self.done or self._thread is not None:
            return False
        self._thread, self._worker = QThread(), _Preloader(self.renderer)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.done.connect(self._finish)
        self._thread.start()
        return True

    @Slot()
    def _finish(self) -> None:
        self.done = True
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
        self._thread, self._worker = None, None
        self.finished.emit()

    def wait(self, timeout_ms: int = 60000) -> None:
        if self._thread is not None:
            self._thread.wait(timeout_ms)
