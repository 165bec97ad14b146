"""The preset gallery: thumbnails and names; grey placeholders until thumbnails load."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem, QWidget

from photoflux_desktop.engine.presets import Preset, thumbnails_dir

THUMB = 96


class StyleGallery(QListWidget):
    styleChosen = Signal(str)

    def __init__(self, presets: dict[str, Preset], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setGridSize(QSize(THUMB + 18, THUMB + 34))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWordWrap(True)
        self.setUniformItemSizes(True)
        self.setMinimumWidth(THUMB + 24)
        placeholder = QPixmap(THUMB, THUMB)
        placeholder.fill(QColor(128, 128, 128, 60))
        for preset in presets.values():
            item = QListWidgetItem(QIcon(placeholder), preset.name)
            item.setData(Qt.ItemDataRole.UserRole, preset.id)
            item.setToolTip(f"<b>{preset.name}</b><br>{preset.description}")
            self.addItem(item)
        self._presets = presets
        self.currentItemChanged.connect(self._on_current)
        QTimer.singleShot(0, self._load_thumbnails)  # after the window is on screen

    def _load_thumbnails(self) -> None:
        for row in range(self.count()):
            item = self.item(row)
            preset = self._presets[item.data(Qt.ItemDataRole.UserRole)]
            pixmap = QPixmap(str(thumbnails_dir() / preset.thumbnail))
            if not pixmap.isNull():
                item.setIcon(QIcon(pixmap))

    def _on_current(self, current: QListWidgetItem | None, previous: object) -> None:
        if current is not None:
            self.styleChosen.emit(current.data(Qt.ItemDataRole.UserRole))

    def select(self, style_id: str) -> None:
        for row in range(self.count()):
            if self.item(row).data(Qt.ItemDataRole.UserRole) == style_id:
                self.setCurrentRow(row)
                return

    def current_style(self) -> str | None:
        item = self.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None
