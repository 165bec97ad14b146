"""Screenshots of the desktop app's main states, for reviewing the UI as a user sees it.

    .venv/bin/python scripts/screenshots.py [OUT_DIR]     (default: out/screenshots)

Runs offscreen with private folders; the diffusion state uses a tiny random-weight
model (no download), so its preview shows noise-like colour, not a real painting.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_TMP = Path(tempfile.mkdtemp(prefix="photoflux-shots-"))
for _name in ("DATA", "CONFIG", "CACHE"):
    os.environ[f"PHOTOFLUX_{_name}_DIR"] = str(_TMP / _name.lower())
os.environ["PHOTOFLUX_MODELS_DIR"] = str(_TMP / "models")
os.environ["HF_HOME"] = str(_TMP / "hf")
os.environ["HF_HUB_OFFLINE"] = "1"

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from photoflux_desktop.engine.request import Stage  # noqa: E402
from photoflux_desktop.engine.resources import sample_photo  # noqa: E402
from photoflux_desktop.ui.app import create_app  # noqa: E402
from photoflux_desktop.ui.main_window import MainWindow  # noqa: E402
from photoflux_desktop.ui.theme import apply_theme  # noqa: E402


def settle(ms: int = 150) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_for(signal, timeout_ms: int = 120000) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def shoot(window: MainWindow, out: Path, name: str) -> None:
    settle()
    path = out / f"{name}.png"
    window.grab().save(str(path))
    print(path)


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "out/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    app = create_app()
    for theme in ("dark", "light"):
        apply_theme(app, theme)
        window = MainWindow()
        window.resize(1280, 820)
        window.show()
        settle(400)
        shoot(window, out, f"{theme}-1-empty")
        window.open_photo(str(sample_photo()))
        window.gallery.select("comic")
        shoot(window, out, f"{theme}-2-photo-loaded")
        window.render()
        wait_for(window.resultShown)
        shoot(window, out, f"{theme}-3-compare-split")
        window.set_compare_mode("side")
        shoot(window, out, f"{theme}-4-side-by-side")
        window.set_compare_mode("split")
        window.gallery.select("pop-art")
        window.render()
        wait_for(window.resultShown)
        window.compare.set_split(0.35)
        shoot(window, out, f"{theme}-5-gallery")
        if theme == "dark":
            rendering_with_preview(window, out)
            window.resize(800, 600)
            shoot(window, out, "dark-7-small-800x600")
            window.open_photo(b"not an image")
            shoot(window, out, "dark-8-error-banner")
        window.close()
        QApplication.processEvents()
    style_grid_on_a_loaded_photo(app, out)


def rendering_with_preview(window: MainWindow, out: Path) -> None:
    from photoflux_desktop.engine.diffusion.tiny_models import build_tiny_pipeline

    folder = build_tiny_pipeline("sd", _TMP / "tiny-sd")
    window.params.set_model(str(folder))
    window.params.steps.setValue(30)
    window.params.strength.setValue(1.0)
    window.params.size.setCurrentIndex(0)
    captured = {"done": False}

    def on_progress(event) -> None:
        if event.stage is Stage.DENOISING and event.step == 5 and not captured["done"]:
            captured["done"] = True
            shoot(window, out, "dark-6-rendering-with-preview")
            window.cancel_render()

    window.controller.progress.connect(on_progress)
    window.render()
    wait_for(window.controller.idle)
    window.controller.progress.disconnect(on_progress)
    window.params.set_model("instant")


def style_grid_on_a_loaded_photo(app: QApplication, out: Path) -> None:
    """The style grid showing every look on the user's photo, once all previews landed."""
    for theme in ("dark", "light"):
        apply_theme(app, theme)
        for width, height in ((1280, 800), (800, 600)):
            window = MainWindow()
            window.resize(width, height)
            window.show()
            settle(400)
            shown: list[float] = []
            window.looks.previewsShown.connect(shown.append)
            window.open_photo(str(sample_photo()))
            wait_for(window.looks.previewsShown, 60000)
            if not shown:
                raise SystemExit(f"style grid ({theme}, {width}x{height}): previews never shown")
            window.gallery.select("watercolor")
            shoot(window, out, f"{theme}-style-grid-{width}x{height}")
            window.close()
            QApplication.processEvents()


if __name__ == "__main__":
    main()
