"""Export a result: format, size, watermarks; written by the engine's atomic writer."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from photoflux_desktop.engine.export_presets import SIZE_PRESETS
from photoflux_desktop.engine.output import OutputOptions
from photoflux_desktop.engine.watermark import VisibleWatermark

FORMATS = {"png": "PNG (lossless)", "jpg": "JPEG", "webp": "WebP"}


class ExportDialog(QDialog):
    def __init__(
        self,
        suggested: Path,
        image_size: tuple[int, int],
        fmt: str = "png",
        watermark: bool = True,
        parent: QWidget | None = None,
        *,
        size_preset: str = "original",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        form = QFormLayout(self)
        self.format = QComboBox()
        for key, label in FORMATS.items():
            self.format.addItem(label, key)
        self.format.setCurrentIndex(max(0, self.format.findData(fmt)))
        self.image_size = image_size
        self.size_preset = QComboBox()
        for preset in SIZE_PRESETS.values():
            self.size_preset.addItem(preset.label, preset.id)
        self.size_preset.addItem("Custom", "custom")
        top = max(SIZE_PRESETS[p].target_side(image_size) for p in SIZE_PRESETS)
        self.long_side = QSpinBox(minimum=64, maximum=max(64, top, *image_size))
        self.long_side.setValue(max(image_size))
        self.long_side.setSuffix(" px")
        self.size_preset.currentIndexChanged.connect(self._preset_chosen)
        self.size_preset.setCurrentIndex(max(0, self.size_preset.findData(size_preset)))
        self.long_side.valueChanged.connect(self._maybe_custom)
        self.quality = QSpinBox(minimum=50, maximum=100, value=92)
        self.invisible = QCheckBox("Invisible PhotoFlux watermark")
        self.invisible.setChecked(watermark)
        self.visible = QLineEdit()
        self.visible.setPlaceholderText("Visible watermark text (empty: none)")
        self.path = QLineEdit(str(suggested))
        form.addRow("Format", self.format)
        form.addRow("Size", self.size_preset)
        form.addRow("Long side", self.long_side)
        form.addRow("Quality", self.quality)
        form.addRow(self.invisible)
        form.addRow("Visible mark", self.visible)
        form.addRow("File", self.path)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._choose_and_accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.format.currentIndexChanged.connect(self._fix_suffix)

    def _preset_chosen(self) -> None:
        preset = SIZE_PRESETS.get(self.size_preset.currentData())
        if preset is not None:
            self.long_side.blockSignals(True)
            self.long_side.setValue(preset.target_side(self.image_size))
            self.long_side.blockSignals(False)

    def _maybe_custom(self) -> None:
        preset = SIZE_PRESETS.get(self.size_preset.currentData())
        if preset is not None and preset.target_side(self.image_size) != self.long_side.value():
            self.size_preset.setCurrentIndex(self.size_preset.findData("custom"))

    def _fix_suffix(self) -> None:
        path = Path(self.path.text())
        self.path.setText(str(path.with_suffix("." + self.format.currentData())))

    def _choose_and_accept(self) -> None:
        fmt = self.format.currentData()
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Export as", self.path.text(), f"{FORMATS[fmt]} (*.{fmt})"
        )
        if chosen:
            self.path.setText(chosen)
            self.accept()

    def target(self) -> Path:
        path = Path(self.path.text())
        return path if path.suffix else path.with_suffix("." + self.format.currentData())

    def target_long_side(self) -> int:
        """The long side to write, larger than the result for print sizes."""
        return self.long_side.value()

    def options(self) -> OutputOptions:
        text = self.visible.text().strip()
        return OutputOptions(
            quality=self.quality.value(),
            invisible_watermark=self.invisible.isChecked(),
            visible_watermark=VisibleWatermark(text=text) if text else None,
        )
