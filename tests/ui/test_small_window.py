"""An 800x600 window shows every control whole: nothing pushed past the window edge or
clipped by a column that asks for more than the splitter can give (found in review)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget

from photoflux_desktop.engine.resources import sample_photo
from photoflux_desktop.ui.theme import apply_theme


def _inside(widget: QWidget, outer: QWidget) -> bool:
    top_left = widget.mapTo(outer, QPoint(0, 0))
    return outer.rect().contains(QRect(top_left, widget.size()))


def _clipped_buttons(window) -> list[str]:
    """Visible buttons narrower than their text, or reaching past their scroll viewport."""
    bad = []
    for button in window.findChildren(QAbstractButton):
        if not button.isVisible() or not button.text():
            continue
        text = button.fontMetrics().horizontalAdvance(button.text().replace("&", ""))
        if button.width() < text + 8 or not _inside(button, window):
            bad.append(button.text())
    side_view = window.params.parentWidget()  # the scroll area's viewport
    for button in window.params.findChildren(QAbstractButton):
        if button.isVisible() and not _inside(button, side_view):
            bad.append(button.text())
    return bad


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_800x600_window_fits_every_control(window, qtbot, theme):
    apply_theme(QApplication.instance(), theme)  # as the app starts: Fusion + its metrics
    window.open_photo(str(sample_photo()))
    window.first_run.show_welcome(remember=False)  # the widest centre: the welcome card
    window.resize(800, 600)
    qtbot.waitUntil(lambda: window.width() == 800)
    assert window.minimumSizeHint().width() <= 800
    assert _inside(window.progress.cancel_button, window)
    assert _clipped_buttons(window) == []


def test_800x600_drop_hint_shows_every_word_inside_the_dashed_area(window, qtbot):
    window.resize(800, 600)
    qtbot.waitUntil(lambda: window.width() == 800)
    view = window.compare
    area = view.empty_area()
    flags = int(Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap)
    texts = []
    for box, text, font in view.empty_text_layout():
        needed = QFontMetricsF(font).boundingRect(box, flags, text)
        assert area.contains(needed), f"{text!r} runs out of the drop area"
        texts.append(text)
    assert texts == [view.placeholder, view.caption]
    view.grab()  # paints through the same layout
