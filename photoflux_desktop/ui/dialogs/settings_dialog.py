"""Settings: models folder, device and memory plan, theme, analytics, cloud URL."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QWidget,
)

from photoflux_desktop.engine.settings import Settings


def _combo(values: tuple[str, ...], current: str) -> QComboBox:
    combo = QComboBox()
    for value in values:
        combo.addItem(value, value)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    return combo


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        form = QFormLayout(self)
        self.models_dir = QLineEdit(settings.models_dir or "")
        self.models_dir.setPlaceholderText("Default folder")
        self.device = _combo(("auto", "cpu", "cuda", "mps"), settings.device)
        self.memory = _combo(("auto", "full", "lowmem", "offload", "sequential"), settings.memory)
        self.quantize = _combo(("none", "int8", "fp8", "int4"), settings.quantize)
        self.theme = _combo(("system", "dark", "light"), settings.theme)
        self.analytics_opt_out = QCheckBox("Do not send anonymous usage events")
        self.analytics_opt_out.setChecked(settings.analytics_opt_out)
        self.cloud_url = QLineEdit(settings.cloud_url or "")
        self.cloud_url.setPlaceholderText("https://studio.example.com (optional)")
        form.addRow("Models folder", self.models_dir)
        form.addRow("Device", self.device)
        form.addRow("Memory plan", self.memory)
        form.addRow("Quantization", self.quantize)
        form.addRow("Theme", self.theme)
        form.addRow(self.analytics_opt_out)
        form.addRow("Cloud URL", self.cloud_url)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._settings = settings

    def result_settings(self) -> Settings:
        return self._settings.model_copy(
            update={
                "models_dir": self.models_dir.text().strip() or None,
                "device": self.device.currentData(),
                "memory": self.memory.currentData(),
                "quantize": self.quantize.currentData(),
                "theme": self.theme.currentData(),
                "analytics_opt_out": self.analytics_opt_out.isChecked(),
                "cloud_url": self.cloud_url.text().strip() or None,
            }
        )
