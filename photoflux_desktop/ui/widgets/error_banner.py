"""The one place the UI shows errors: the engine's typed Error, message plus what to do."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from photoflux_desktop.engine.errors import Error, ErrorKind

_STYLE = {
    ErrorKind.BAD_INPUT: ("#8a6d1f", "#fff4d6", "⚠"),
    ErrorKind.MODEL_MISSING: ("#2f5aa8", "#e3ecff", "⬇"),
    ErrorKind.OUT_OF_MEMORY: ("#a8402f", "#ffe6e1", "⛔"),
    ErrorKind.CLOUD: ("#2f5aa8", "#e3ecff", "☁"),
    ErrorKind.CANCELLED: ("#555555", "#eeeeee", "■"),
    ErrorKind.INTERNAL: ("#a8402f", "#ffe6e1", "⛔"),
}


class ErrorBanner(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        self.icon = QLabel()
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action = QPushButton()
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Dismiss")
        self.close_button.clicked.connect(self.hide)
        layout.addWidget(self.icon)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.action)
        layout.addWidget(self.close_button)
        self.error: Error | None = None
        self._action: Callable[[], None] | None = None
        self.action.clicked.connect(self._run_action)
        self.hide()

    def show_error(
        self, error: Error, action: tuple[str, Callable[[], None]] | None = None
    ) -> None:
        self.error = error
        border, background, symbol = _STYLE.get(error.kind, _STYLE[ErrorKind.INTERNAL])
        self.setStyleSheet(
            f"QFrame#errorBanner {{ background: {background}; border: 1px solid {border};"
            f" border-radius: 6px; }} QFrame#errorBanner QLabel {{ color: #1d1d22; }}"
        )
        self.icon.setText(symbol)
        # a window shows no terminal commands: the GUI hint, or the hint without them
        shown_hint = error.hint_for_gui()
        hint = f"<br><span>{shown_hint}</span>" if shown_hint else ""
        self.text.setText(f"<b>{_escape(error.message)}</b>{_escape_keep(hint)}")
        self._action = action[1] if action else None
        self.action.setVisible(action is not None)
        if action:
            self.action.setText(action[0])
        self.show()

    def _run_action(self) -> None:
        if self._action is not None:
            self._action()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_keep(html: str) -> str:
    # hint text is ours or the engine's, but may quote a file name: escape its content
    prefix, _, rest = html.partition("<span>")
    if not rest:
        return html
    body, _, suffix = rest.rpartition("</span>")
    return f"{prefix}<span>{_escape(body)}</span>{suffix}"
