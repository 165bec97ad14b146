"""Kiosk setup for the operator: PIN, campaign (event) name, styles, camera, timings.

The PIN is hashed (engine/kiosk_pin) before it reaches Settings; the typed digits
never do. A first setup must set a PIN: kiosk mode cannot be left without one.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QWidget,
)

from photoflux_desktop.engine.errors import PhotoFluxError
from photoflux_desktop.engine.kiosk_pin import check_pin_format, hash_pin
from photoflux_desktop.engine.presets import bundled_presets
from photoflux_desktop.engine.settings import Settings
from photoflux_desktop.ui.kiosk.config import MAX_STYLES, chosen_styles


def _pin_field(placeholder: str) -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setPlaceholderText(placeholder)
    return field


class KioskSetupDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Kiosk setup")
        self._settings = settings
        self._needs_pin = not settings.kiosk_pin_hash
        form = QFormLayout(self)
        hint = "4 to 12 digits" if self._needs_pin else "leave empty to keep the current PIN"
        self.pin = _pin_field(hint)
        self.pin_again = _pin_field("the same PIN again")
        self.campaign = QLineEdit(settings.kiosk_campaign or "")
        self.campaign.setMaxLength(80)
        self.campaign.setPlaceholderText("e.g. Summer fair 2026 (tags every lead and event)")
        self.styles = self._style_list(settings.kiosk_styles)
        self.camera = QLineEdit(settings.kiosk_camera)
        self.camera.setToolTip("0 for the first camera, 1 for the second, or a video file")
        self.idle = QSpinBox()
        self.idle.setRange(10, 3600)
        self.idle.setSuffix(" s")
        self.idle.setValue(settings.kiosk_idle_timeout_s)
        self.countdown = QSpinBox()
        self.countdown.setRange(0, 10)
        self.countdown.setSuffix(" s")
        self.countdown.setValue(settings.kiosk_countdown_s)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        form.addRow("Operator PIN", self.pin)
        form.addRow("Repeat PIN", self.pin_again)
        form.addRow("Campaign", self.campaign)
        form.addRow(f"Styles (up to {MAX_STYLES})", self.styles)
        form.addRow("Camera", self.camera)
        form.addRow("Back to start after", self.idle)
        form.addRow("Countdown", self.countdown)
        form.addRow(self.message)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _style_list(self, current: list[str]) -> QListWidget:
        picked = set(chosen_styles(current))
        widget = QListWidget()
        for preset in bundled_presets().values():
            item = QListWidgetItem(preset.name)
            item.setData(Qt.ItemDataRole.UserRole, preset.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = preset.id in picked
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            widget.addItem(item)
        return widget

    def checked_styles(self) -> list[str]:
        items = (self.styles.item(row) for row in range(self.styles.count()))
        return [
            item.data(Qt.ItemDataRole.UserRole)
            for item in items
            if item.checkState() == Qt.CheckState.Checked
        ]

    def accept(self) -> None:
        """Refuses to close on a bad PIN, saying why, instead of saving a wrong one."""
        pin, again = self.pin.text(), self.pin_again.text()
        try:
            if pin or self._needs_pin:
                check_pin_format(pin)
                if pin != again:
                    self.message.setText("The two PINs differ. Type the same PIN twice.")
                    return
            if len(self.checked_styles()) > MAX_STYLES:
                self.message.setText(f"Pick at most {MAX_STYLES} styles.")
                return
        except PhotoFluxError as exc:
            self.message.setText(f"{exc.error.message} {exc.error.hint_for_gui()}".strip())
            return
        self._new_hash = hash_pin(pin) if pin else self._settings.kiosk_pin_hash
        self.pin.clear()
        self.pin_again.clear()
        super().accept()

    def result_settings(self) -> Settings:
        return self._settings.model_copy(
            update={
                "kiosk_pin_hash": self._new_hash,
                "kiosk_campaign": self.campaign.text().strip() or None,
                "kiosk_styles": self.checked_styles(),
                "kiosk_camera": self.camera.text().strip() or "0",
                "kiosk_idle_timeout_s": self.idle.value(),
                "kiosk_countdown_s": self.countdown.value(),
            }
        )
