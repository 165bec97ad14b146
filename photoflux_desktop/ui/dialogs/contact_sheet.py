"""All styles on one photo: tiles fill in as the batch renders them; click one to open it."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from photoflux_desktop.ui.batch_queue import BatchItem, BatchQueue, ItemState
from photoflux_desktop.ui.images import pil_to_qimage
from photoflux_desktop.ui.widgets.history_strip import style_name
from photoflux_desktop.ui.widgets.queue_view import MARKS

TILE = 160


class ContactSheetDialog(QDialog):
    entryOpened = Signal(str)
    saveRequested = Signal(list)  # [(caption, image path)]

    def __init__(self, queue: BatchQueue, indexes: list[int], title: str, parent: QWidget):
        super().__init__(parent)
        self.setWindowTitle(f"All styles · {title}")
        self.queue, self.indexes = queue, indexes
        layout = QVBoxLayout(self)
        self.note = QLabel("Instant looks appear at once; AI styles render one after another.")
        self.note.setObjectName("muted")
        layout.addWidget(self.note)
        grid_host = QWidget()
        self.grid = QGridLayout(grid_host)
        self.tiles: dict[int, QToolButton] = {}
        for n, index in enumerate(indexes):
            tile = QToolButton()
            tile.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            tile.setIconSize(QSize(TILE, TILE))
            tile.setFixedSize(TILE + 16, TILE + 44)
            tile.clicked.connect(lambda _=False, i=index: self._open(i))
            self.tiles[index] = tile
            self.grid.addWidget(tile, n // 4, n % 4)
            self._update(index)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(grid_host)
        layout.addWidget(scroll, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.save_button = buttons.addButton("Save sheet", QDialogButtonBox.ButtonRole.ActionRole)
        self.save_button.setToolTip("Save the finished tiles as one image to the export folder")
        buttons.rejected.connect(self.close)
        self.save_button.clicked.connect(lambda: self.saveRequested.emit(self.finished_tiles()))
        layout.addWidget(buttons)
        queue.itemChanged.connect(self._update)
        self.resize(4 * (TILE + 24) + 40, 2 * (TILE + 52) + 120)

    def finished_tiles(self) -> list:
        items = [self.queue.items[i] for i in self.indexes if i < len(self.queue.items)]
        return [(self._caption(it), it.entry.image_path) for it in items if it.entry is not None]

    @staticmethod
    def _caption(item: BatchItem) -> str:
        ai = " (AI)" if item.model != "instant" else ""
        return style_name(item.style_id) + ai

    def _update(self, index: int) -> None:
        tile = self.tiles.get(index)
        if tile is None or index >= len(self.queue.items):
            return
        item = self.queue.items[index]
        state = "" if item.state is ItemState.DONE else f"\n{MARKS[item.state]}"
        tile.setText(self._caption(item) + state)
        tile.setToolTip(item.message or self._caption(item))
        if item.thumb is not None:
            tile.setIcon(QIcon(QPixmap.fromImage(pil_to_qimage(item.thumb))))
        tile.setEnabled(item.state is not ItemState.CANCELLED)

    def _open(self, index: int) -> None:
        entry = self.queue.items[index].entry
        if entry is not None:
            self.entryOpened.emit(entry.id)
