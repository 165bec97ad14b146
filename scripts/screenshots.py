"""Screenshots of the desktop app's states, for reviewing the UI as a user sees it.

    .venv/bin/python scripts/screenshots.py [OUT_DIR] [--only SUBSTRING]
    (default OUT_DIR: out/screenshots)

Every state is a function registered with `@state(name)`: it gets a fresh, shown main
window and puts it in that state; the window is then captured as
`{theme}-{width}x{height}-{name}.png`, for every theme and size the state is registered
for (both themes, 1280×800 and 800×600 unless it says otherwise). A state that raises,
or that could not be captured, is listed at the end and the script exits 1: a missing
screenshot is a failure, not a quiet gap. To add states, append functions decorated
with `@state` near the end of this file.

Runs offscreen with private folders; the diffusion state uses a tiny random-weight
model (no download), so its preview shows noise-like colour, not a real painting.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_TMP = Path(tempfile.mkdtemp(prefix="photoflux-shots-"))
for _name in ("DATA", "CONFIG", "CACHE"):
    os.environ[f"PHOTOFLUX_{_name}_DIR"] = str(_TMP / _name.lower())
os.environ["PHOTOFLUX_MODELS_DIR"] = str(_TMP / "models")
os.environ["HF_HOME"] = str(_TMP / "hf")
os.environ["HF_HUB_OFFLINE"] = "1"

from PySide6.QtCore import QEventLoop, QThreadPool, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from photoflux_desktop.engine.request import Stage  # noqa: E402
from photoflux_desktop.engine.resources import sample_photo  # noqa: E402
from photoflux_desktop.ui.app import create_app  # noqa: E402
from photoflux_desktop.ui.main_window import MainWindow  # noqa: E402
from photoflux_desktop.ui.theme import apply_theme  # noqa: E402

THEMES = ("dark", "light")
SIZES = ((1280, 800), (800, 600))


@dataclass(frozen=True)
class State:
    name: str
    setup: Callable[[MainWindow], None]
    themes: tuple[str, ...] = THEMES
    sizes: tuple[tuple[int, int], ...] = SIZES


STATES: list[State] = []  # the registry, in the order the states run


def state(
    name: str,
    themes: tuple[str, ...] = THEMES,
    sizes: tuple[tuple[int, int], ...] = SIZES,
) -> Callable[[Callable[[MainWindow], None]], Callable[[MainWindow], None]]:
    """Registers `setup(window)` as the state `name` (see the module docstring)."""

    def register(setup: Callable[[MainWindow], None]) -> Callable[[MainWindow], None]:
        STATES.append(State(name, setup, themes, sizes))
        return setup

    return register


def settle(ms: int = 150) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_for(signal, timeout_ms: int = 120000) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


class _Camera:
    """Saves the state being run; `snap` lets a state capture mid-way (a live preview)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.file = ""
        self.captured: set[str] = set()

    def snap(self, window: MainWindow) -> None:
        if self.file in self.captured:
            return
        settle()
        path = self.out / self.file
        pixmap = window.grab()
        if not pixmap.isNull() and pixmap.save(str(path)):
            self.captured.add(self.file)
            print(path)


_cameras: list[_Camera] = []  # the run in progress


def snap(window: MainWindow) -> None:
    """Capture the current state now (else it is captured when its setup returns)."""
    _cameras[-1].snap(window)


def run_states(out: Path, only: str = "") -> list[str]:
    """Runs every registered state; returns the files that were not captured."""
    _camera = _Camera(out)
    _cameras.append(_camera)
    app = create_app()
    expected: list[str] = []
    for item in STATES:
        if only and only not in item.name:
            continue
        for theme in item.themes:
            for width, height in item.sizes:
                _camera.file = f"{theme}-{width}x{height}-{item.name}.png"
                expected.append(_camera.file)
                apply_theme(app, theme)
                window = MainWindow()
                window.resize(width, height)
                window.show()
                wait_for(window.firstShown, 10000)
                settle(300)
                try:
                    item.setup(window)
                    _camera.snap(window)
                except Exception:  # reported below as missing; the other states still run
                    traceback.print_exc()
                finally:
                    window.close()
                    QThreadPool.globalInstance().waitForDone()  # its warm-up reports to it
                    window.deleteLater()
                    QApplication.processEvents()
    return [name for name in expected if name not in _camera.captured]


def main(argv: list[str]) -> int:
    only = ""
    if "--only" in argv:
        index = argv.index("--only")
        only = argv[index + 1]
        argv = argv[:index] + argv[index + 2 :]
    out = Path(argv[0] if argv else "out/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    missing = run_states(out, only)
    if missing:
        print(f"NOT CAPTURED ({len(missing)}): " + ", ".join(missing), file=sys.stderr)
        return 1
    return 0


# -- states ------------------------------------------------------------------------------
def _photo_with(window: MainWindow, style: str) -> None:
    window.open_photo(str(sample_photo()))
    window.gallery.select(style)


def _render(window: MainWindow) -> None:
    window.render()
    wait_for(window.resultShown)


@state("1-empty")
def empty(window: MainWindow) -> None:
    pass


@state("2-photo-loaded")
def photo_loaded(window: MainWindow) -> None:
    _photo_with(window, "comic")


@state("3-compare-split")
def compare_split(window: MainWindow) -> None:
    _photo_with(window, "comic")
    _render(window)


@state("4-side-by-side")
def side_by_side(window: MainWindow) -> None:
    compare_split(window)
    window.set_compare_mode("side")


@state("5-gallery")
def gallery(window: MainWindow) -> None:
    compare_split(window)
    window.gallery.select("pop-art")
    _render(window)
    window.compare.set_split(0.35)


@state("6-rendering-with-preview", themes=("dark",), sizes=((1280, 800),))
def rendering_with_preview(window: MainWindow) -> None:
    from photoflux_desktop.engine.diffusion.tiny_models import build_tiny_pipeline

    _photo_with(window, "comic")
    folder = _TMP / "tiny-sd"
    if not folder.exists():
        build_tiny_pipeline("sd", folder)
    window.params.set_model(str(folder))
    window.params.steps.setValue(30)
    window.params.strength.setValue(1.0)
    window.params.size.setCurrentIndex(0)

    def on_progress(event) -> None:
        if event.stage is Stage.DENOISING and event.step == 5:
            snap(window)
            window.cancel_render()

    window.controller.progress.connect(on_progress)
    window.render()
    wait_for(window.controller.idle)


@state("8-error-banner")
def error_banner(window: MainWindow) -> None:
    window.open_photo(b"not an image")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
