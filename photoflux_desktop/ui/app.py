"""Starts the desktop app. Heavy libraries load later, on the first render."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QApplication

from photoflux_desktop import __version__

if TYPE_CHECKING:
    from photoflux_desktop.ui.main_window import MainWindow


def create_app(argv: Sequence[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("PhotoFlux")
    app.setOrganizationName("PhotoFlux")
    app.setApplicationVersion(__version__)
    return app


def create_window(photo: str | None = None) -> MainWindow:
    """The window on screen at once, as a themed frame; its parts are assembled right after
    the first paint (MainWindow `deferred`), then the photo from the command line opens."""
    from photoflux_desktop.ui.main_window import MainWindow
    from photoflux_desktop.ui.theme import apply_theme

    apply_theme(QApplication.instance(), saved_theme())
    window = MainWindow(deferred=True)
    window.show()
    if photo:
        window.ready.connect(lambda: window.open_photo(photo))
    return window


def saved_theme() -> str:
    """The theme from the settings file, read without the settings model (pydantic costs
    ~0.1 s before the first paint); the window re-checks the whole file as it assembles."""
    from photoflux_desktop.engine.paths import config_dir

    try:
        theme = json.loads((config_dir() / "settings.json").read_text(encoding="utf-8"))["theme"]
    except (OSError, ValueError, KeyError, TypeError):
        return "system"
    return theme if theme in ("system", "dark", "light") else "system"


def run_app(photo: str | None = None) -> int:
    app = create_app()
    window = create_window(photo)
    from photoflux_desktop.ui.smoke import capture_when_ready

    capture_when_ready(app, window, photo)  # only with PHOTOFLUX_SMOKE_SCREENSHOT set
    code = app.exec()
    # the window is already gone; a background job (a warm-up, a preload) finishes
    # before the objects it reports to are torn down
    QThreadPool.globalInstance().waitForDone()
    return code
