"""Settings: models folder, device and memory plan, theme, analytics, cloud URL.

Only the devices this machine has are offered (engine/devices.py probe), each with a
one-line explanation; memory plans that need an NVIDIA GPU are offered only with one.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from photoflux_desktop.engine.machine import DeviceOption, device_options, probe_machine
from photoflux_desktop.engine.openvino.choice import openvino_installed
from photoflux_desktop.engine.settings import Settings

_MEMORY_PLANS = (
    ("auto", "Automatic", False),
    ("full", "Fastest: everything in graphics memory", False),
    ("lowmem", "Lower memory: slices the work", False),
    ("offload", "Offload: parts wait in system memory", True),
    ("sequential", "Smallest: layer by layer, slowest", True),
)


def _combo(values: tuple[str, ...], current: str) -> QComboBox:
    combo = QComboBox()
    for value in values:
        combo.addItem(value, value)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    return combo


class SettingsDialog(QDialog):
    def __init__(
        self,
        settings: Settings,
        parent: QWidget | None = None,
        devices: list[DeviceOption] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        # the probe is cached per process; the first call imports torch (a second or two)
        self.device_choices = devices if devices is not None else device_options(probe_machine())
        form = QFormLayout(self)
        self.models_dir = QLineEdit(settings.models_dir or "")
        self.models_dir.setPlaceholderText("Default folder")
        self.device = self._device_combo(settings.device)
        self.device_note = QLabel()
        self.device_note.setObjectName("muted")
        self.device_note.setWordWrap(True)
        self.device.currentIndexChanged.connect(self._explain_device)
        self._explain_device()
        nvidia = any(option.value == "cuda" for option in self.device_choices)
        self.memory = QComboBox()
        for value, label, needs_nvidia in _MEMORY_PLANS:
            if nvidia or not needs_nvidia or value == settings.memory:
                self.memory.addItem(label, value)
        self.memory.setCurrentIndex(max(0, self.memory.findData(settings.memory)))
        # w8a8 is OpenVINO's alone: offered where OpenVINO is what renders (no GPU at all)
        gpu = any(option.value in ("cuda", "mps") for option in self.device_choices)
        fast_cpu = not gpu and openvino_installed()
        modes = ("none", "int8", "fp8", "int4")
        modes += ("w8a8",) if fast_cpu or settings.quantize == "w8a8" else ()
        self.quantize = _combo(modes, settings.quantize)
        self.quantize.setToolTip(
            "Weights in fewer bits. int8/fp8/int4: to fit a GPU (torch). w8a8: OpenVINO "
            "computes in 8 bits, the fastest on a CPU, at some cost in fine detail; the "
            "first render calibrates it once."
        )
        # auto: OpenVINO on a computer without a GPU for SD/SDXL models (engine/openvino)
        self.backend = _combo(("auto", "torch", "openvino"), settings.backend)
        self.theme = _combo(("system", "dark", "light"), settings.theme)
        self.analytics = QCheckBox("Share anonymous usage counts (never photos or prompts)")
        self.analytics.setChecked(settings.analytics_enabled)
        self.cloud_url = QLineEdit(settings.cloud_url or "")
        self.cloud_url.setPlaceholderText("https://studio.example.com (optional)")
        form.addRow("Models folder", self.models_dir)
        form.addRow("Device", self.device)
        form.addRow("", self.device_note)
        form.addRow("Memory plan", self.memory)
        form.addRow("Quantization", self.quantize)
        form.addRow("Compute backend", self.backend)
        form.addRow("Theme", self.theme)
        form.addRow(self.analytics)
        form.addRow("Cloud URL", self.cloud_url)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._settings = settings

    def _device_combo(self, current: str) -> QComboBox:
        combo = QComboBox()
        for option in self.device_choices:
            combo.addItem(option.label, option.value)
            combo.setItemData(combo.count() - 1, option.explanation, Qt.ItemDataRole.ToolTipRole)
        if combo.findData(current) < 0:
            # a choice saved on another machine: kept visible, not silently changed
            combo.addItem(f"{current} (not found on this computer)", current)
            self.device_choices = [
                *self.device_choices,
                DeviceOption(current, current, "Not found here; renders fall back to the CPU."),
            ]
        combo.setCurrentIndex(max(0, combo.findData(current)))
        return combo

    def _explain_device(self) -> None:
        value = self.device.currentData()
        note = next((o.explanation for o in self.device_choices if o.value == value), "")
        self.device_note.setText(note)

    def result_settings(self) -> Settings:
        allowed = self.analytics.isChecked()
        return self._settings.model_copy(
            update={
                "models_dir": self.models_dir.text().strip() or None,
                "device": self.device.currentData(),
                "memory": self.memory.currentData(),
                "quantize": self.quantize.currentData(),
                "backend": self.backend.currentData(),
                "theme": self.theme.currentData(),
                "analytics_consent": allowed,
                "analytics_opt_out": not allowed,
                "cloud_url": self.cloud_url.text().strip() or None,
            }
        )
