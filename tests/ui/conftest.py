"""Qt fixtures: a real MainWindow, offscreen, with private settings and library."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture(autouse=True)
def private_qsettings(tmp_path, qapp):
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qs"))
    qapp.setOrganizationName("PhotoFluxTests")
    qapp.setApplicationName("PhotoFluxTests")


@pytest.fixture
def window(qtbot):
    from photoflux_desktop.ui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1100, 760)
    with qtbot.waitSignal(win.firstShown, timeout=5000):
        win.show()
    qtbot.waitUntil(lambda: win.gallery.current_style() == "watercolor", timeout=5000)
    yield win
    if win.controller.busy:
        win.controller.cancel()
        win.controller.wait(30000)
