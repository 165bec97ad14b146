"""Hold Space anywhere in the window to see the original, whatever has focus.

An application-wide event filter, because a focused button, list or tile takes Space
for itself (a focused compare button would even switch mode). Text inputs keep it:
Space there types a space.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

_TEXT_INPUTS = (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox)


def takes_text(widget: QWidget | None) -> bool:
    if widget is None:
        return False
    if isinstance(widget, QComboBox):
        return widget.isEditable()
    if isinstance(widget, QTextEdit | QPlainTextEdit):
        return not widget.isReadOnly()
    return isinstance(widget, _TEXT_INPUTS)


class HoldToCompare(QObject):
    """Calls `hold(True)` while Space is held in `window` outside a text input."""

    def __init__(self, window: QWidget, hold: Callable[[bool], None]) -> None:
        super().__init__(window)
        self._window = window
        self._hold = hold
        self.holding = False
        QApplication.instance().installEventFilter(self)
        window.destroyed.connect(self._uninstall)

    def _uninstall(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            return False
        if not isinstance(event, QKeyEvent) or event.key() != Qt.Key.Key_Space:
            return False
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False  # Ctrl+Space and friends are someone else's
        if not isinstance(watched, QWidget) or watched.window() is not self._window:
            return False
        typing = takes_text(QApplication.focusWidget()) or takes_text(watched)  # sent to one
        if typing and not self.holding:
            return False
        if not event.isAutoRepeat():
            self.holding = kind == QEvent.Type.KeyPress
            self._hold(self.holding)
        return True  # the focused widget never sees it: no click, no mode switch
