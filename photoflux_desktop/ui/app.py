"""Starts the desktop app. Heavy libraries load later, on the first render."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QThreadPool, QTimer
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
    """Theme, window, and the photo from the command line (checked by the window)."""
    from photoflux_desktop.engine.settings import load_settings
    from photoflux_desktop.ui.main_window import MainWindow
    from photoflux_desktop.ui.theme import apply_theme

    apply_theme(QApplication.instance(), load_settings()[0].theme)
    window = MainWindow()
    window.show()
    if photo:
        QTimer.singleShot(0, lambda: window.open_photo(photo))
    return window


def run_app(photo: str | None = None) -> int:
    app = create_app()
    window = create_window(photo)  # noqa: F841 - kept alive by this frame until exec ends
    code = app.exec()
    # the window is already gone; a background job (a warm-up, a preload) finishes
    # before the objects it reports to are torn down
    QThreadPool.globalInstance().waitForDone()
    return code
