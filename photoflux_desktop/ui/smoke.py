"""A start-up check for packaged builds: open the real window, capture it, quit.

`PHOTOFLUX_SMOKE_SCREENSHOT=FILE photoflux gui [PHOTO]` runs the app as a user starts
it; once the window is assembled (and PHOTO opened) it saves the window to FILE as a PNG
and closes it as a user would, with exit 0 when the capture was written and the photo,
if one was given, was loaded. The frozen-app test (tests/test_frozen.py) uses it: a
bundle that lacks a Qt plugin, a resource or a module the window imports fails there,
not on a user's desk.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from photoflux_desktop.ui.main_window import MainWindow

ENV = "PHOTOFLUX_SMOKE_SCREENSHOT"


def capture_when_ready(app: QApplication, window: MainWindow, photo: str | None) -> None:
    """Arm the check when the environment asks for it; a no-op otherwise."""
    target = os.environ.get(ENV)
    if not target:
        return

    def capture() -> None:
        saved = window.grab().save(target, "PNG")
        code = 0 if saved and (photo is None or window.photo is not None) else 1
        window.close()  # as a user quits: its closeEvent stops the workers it started
        app.exit(code)

    # connected after the photo's own slot (create_window): the photo is open by now;
    # the zero timer lets the assembled window paint once more before the capture
    window.ready.connect(lambda: QTimer.singleShot(0, capture))
