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
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        form = QFormLayout(self)
        self.format = QComboBox()
        for key, label in FORMATS.items():
            self.format.addItem(label, key)
        self.format.setCurrentIndex(max(0, self.format.findData(fmt)))
        self.long_side = QSpinBox(minimum=64, maximum=max(64, *image_size))
        self.long_side.setValue(max(image_size))
        self.long_side.setSuffix(" px")
        self.quality = QSpinBox(minimum=50, maximum=100, value=92)
        self.invisible = QCheckBox("Invisible PhotoFlux watermark")
        self.invisible.setChecked(watermark)
        self.visible = QLineEdit()
        self.visible.setPlaceholderText("Visible watermark text (empty: none)")
        self.path = QLineEdit(str(suggested))
        form.addRow("Format", self.format)
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

    def options(self) -> OutputOptions:
        text = self.visible.text().strip()
        return OutputOptions(
            quality=self.quality.value(),
            invisible_watermark=self.invisible.isChecked(),
            visible_watermark=VisibleWatermark(text=text) if text else None,
            max_side=self.long_side.value(),
        )
