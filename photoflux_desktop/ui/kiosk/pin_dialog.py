"""The operator's PIN pad: leaving kiosk mode and opening its setup go through it.

A touch-sized keypad plus a masked field (a keyboard works too). Non-modal (`open()`),
so the kiosk's idle timer keeps running and closes it when a guest walks away from it.
Wrong PINs and the lockout come from engine/kiosk_pin.PinGuard, which the kiosk keeps
for its whole run so closing and reopening the pad does not reset the count.
"""

from __future__ import annotations

from PySide6.QtCore import QRegularExpression, Qt, QTimer, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from photoflux_desktop.engine.kiosk_pin import MAX_PIN_DIGITS, PinGuard


class PinDialog(QDialog):
    unlocked = Signal()

    def __init__(self, guard: PinGuard, purpose: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.guard = guard
        self.setWindowTitle("Operator PIN")
        self.setObjectName("kioskPin")
        layout = QVBoxLayout(self)
        title = QLabel(f"Operator PIN to {purpose}")
        title.setObjectName("sectionTitle")
        self.field = QLineEdit()
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setValidator(
            QRegularExpressionValidator(QRegularExpression(rf"\d{{0,{MAX_PIN_DIGITS}}}"))
        )
        self.field.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.field.returnPressed.connect(self.try_pin)
        self.message = QLabel("")
        self.message.setObjectName("muted")
        self.message.setWordWrap(True)
        layout.addWidget(title)
        layout.addWidget(self.field)
        layout.addLayout(self._keypad())
        layout.addWidget(self.message)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._show_lockout)
        self._show_lockout()

    def _keypad(self) -> QGridLayout:
        grid = QGridLayout()
        keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "OK"]
        self.ok_button: QPushButton | None = None
        for index, key in enumerate(keys):
            button = QPushButton(key)
            button.setMinimumSize(72, 56)
            if key == "OK":
                button.setObjectName("primary")
                button.clicked.connect(self.try_pin)
                self.ok_button = button
            elif key == "⌫":
                button.clicked.connect(self.field.backspace)
            else:
                button.clicked.connect(lambda _=False, k=key: self.field.insert(k))
            grid.addWidget(button, index // 3, index % 3)
        return grid

    def try_pin(self) -> None:
        pin = self.field.text()
        self.field.clear()  # the typed PIN leaves the screen either way
        if self.guard.check(pin):
            self.message.setText("")
            self.accept()
            self.unlocked.emit()
            return
        if not self._show_lockout():
            self.message.setText("Wrong PIN.")

    def _show_lockout(self) -> bool:
        """Shows the remaining lockout, if any; True while locked out."""
        left = self.guard.seconds_locked()
        locked = left > 0
        self.field.setEnabled(not locked)
        if self.ok_button is not None:
            self.ok_button.setEnabled(not locked)
        if locked:
            self.message.setText(f"Too many wrong PINs. Try again in {left:.0f} s.")
            self._tick.start()
        elif self._tick.isActive():
            self._tick.stop()
            self.message.setText("")
        return locked
