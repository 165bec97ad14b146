"""Buttons as narrow as their text.

Qt's styles give every text push button a minimum of about 80 px whatever its label;
in an 800 px window the centre column (compare modes, library toolbar, welcome card)
then asks for more than the splitter can give and the side panel is pushed past the
window edge. Fitting the minimum to the label keeps every word readable and lets the
three columns fit.
"""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractButton

PADDING_PX = 18  # the style's button margins plus the frame


def fit_to_text(*buttons: QAbstractButton) -> None:
    """Minimum width = the label's width plus padding (never wider than Qt's own hint)."""
    for button in buttons:
        if button.objectName() == "primary":
            continue  # bold text and 16 px padding from the theme: Qt's hint is right
        text = button.fontMetrics().horizontalAdvance(button.text().replace("&", ""))
        extra = 16 if button.menu() is not None else 0  # the drop-down arrow
        button.setMinimumWidth(min(button.minimumSizeHint().width(), text + PADDING_PX + extra))
