"""A short message over the bottom of the window, with up to two action buttons.

Used where a dialog would be too much: "Saved … [Open folder]", "Deleted 3 results
[Undo]". It hides itself after a while; the actions stay reachable elsewhere (Ctrl+Z,
the library's menu), so missing a toast never loses anything.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

Action = tuple[str, Callable[[], object]]


class Toast(QFrame):
    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("toast")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setStyleSheet(
            "#toast { background: palette(tooltip-base); border: 1px solid palette(mid);"
            " border-radius: 8px; } #toast QLabel { color: palette(tooltip-text); }"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 8, 8, 8)
        self.text = QLabel()
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        layout.addWidget(self.text, 1)
        self.buttons: list[QPushButton] = []
        self._layout = layout
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.hide)
        parent.installEventFilter(self)  # stay at the bottom centre when the window resizes
        self.hide()

    def show_message(self, text: str, actions: tuple[Action, ...] = (), seconds: float = 6) -> None:
        self.text.setText(text)
        for button in self.buttons:
            button.deleteLater()
        self.buttons = []
        for label, slot in actions:
            button = QPushButton(label)
            button.clicked.connect(lambda _=False, s=slot: (s(), self.hide()))
            self._layout.addWidget(button)
            self.buttons.append(button)
        self.adjustSize()
        self._place()
        self.show()
        self.raise_()
        self._timer.start(int(seconds * 1000))

    def button(self, label: str) -> QPushButton | None:
        return next((b for b in self.buttons if b.text() == label), None)

    def _place(self) -> None:
        parent = self.parentWidget()
        width = min(max(self.sizeHint().width(), 260), parent.width() - 40)
        self.resize(width, self.sizeHint().height())
        # above the library strip and its tool row, over the bottom of the picture
        self.move((parent.width() - width) // 2, parent.height() - self.height() - 210)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False
