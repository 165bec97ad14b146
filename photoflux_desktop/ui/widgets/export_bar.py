"""One-click Save (to the remembered folder, at the chosen size) and Save as…."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QPushButton, QWidget

from photoflux_desktop.engine.export_presets import SIZE_PRESETS


class ExportBar(QWidget):
    saveRequested = Signal()
    saveAsRequested = Signal()
    sizeChanged = Signal(str)  # preset id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 4, 0, 0)
        self.size = QComboBox()
        for preset in SIZE_PRESETS.values():
            self.size.addItem(preset.label, preset.id)
        self.size.setToolTip("Size of saved images: print sizes are enlarged to 300 dpi")
        self.save_button = QPushButton("Save")
        self.save_as_button = QPushButton("Save as…")
        self.save_as_button.setToolTip("Choose the file, format and watermarks (Ctrl+E)")
        self.folder = QLabel()
        self.folder.setObjectName("muted")
        grid.addWidget(self.size, 0, 0, 1, 2)
        grid.addWidget(self.save_button, 1, 0)
        grid.addWidget(self.save_as_button, 1, 1)
        grid.addWidget(self.folder, 2, 0, 1, 2)
        self.save_button.clicked.connect(self.saveRequested)
        self.save_as_button.clicked.connect(self.saveAsRequested)
        self.size.currentIndexChanged.connect(lambda: self.sizeChanged.emit(self.size_id()))
        self.set_has_result(False)

    def size_id(self) -> str:
        return self.size.currentData()

    def set_size(self, preset_id: str) -> None:
        self.size.setCurrentIndex(max(0, self.size.findData(preset_id)))

    def set_folder(self, folder: Path) -> None:
        shown = str(folder).replace(str(Path.home()), "~", 1)
        self.folder.setText(f"Saves to {shown}")
        self.folder.setToolTip(str(folder))
        self.save_button.setToolTip(f"Save the result to {folder} in one click (Ctrl+S)")

    def set_has_result(self, has: bool) -> None:
        self.save_button.setEnabled(has)
        self.save_as_button.setEnabled(has)
