"""Features built apart, used together (found in review): each drives the real click,
shortcut or action."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.ui.test_style_grid import click_tile, open_and_wait_for_previews


def test_an_instant_look_applied_clears_a_stale_error(qtbot, window, astronaut_path):
    open_and_wait_for_previews(qtbot, window, astronaut_path)
    window.activateWindow()
    QTest.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # nothing to save
    assert window.banner.isVisible()
    with qtbot.waitSignal(window.resultShown, timeout=60000):
        click_tile(qtbot, window, "pencil-sketch")
    assert not window.banner.isVisible()  # the error was about no result; there is one now
