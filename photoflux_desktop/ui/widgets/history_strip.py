"""The gallery of past results (from the library), newest first, with actions."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem, QMenu, QWidget

from photoflux_desktop.engine.library import LibraryEntry


class HistoryStrip(QListWidget):
    opened = Signal(str)  # entry id: show it
    reopenSettings = Signal(str)
    deleteRequested = Signal(str)
    revealRequested = Signal(str)
    exportRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setIconSize(QSize(72, 72))
        self.setMinimumHeight(104)
        self.setMaximumHeight(120)
        self.setMovement(QListView.Movement.Static)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.itemActivated.connect(lambda item: self.opened.emit(self._id(item)))
        self.itemClicked.connect(lambda item: self.opened.emit(self._id(item)))

    def set_entries(self, entries: list[LibraryEntry]) -> None:
        self.clear()
        for entry in entries:
            self.add_entry(entry, at_end=True)

    def add_entry(self, entry: LibraryEntry, at_end: bool = False) -> None:
        item = QListWidgetItem(QIcon(QPixmap(str(entry.thumb_path))), entry.style)
        item.setData(Qt.ItemDataRole.UserRole, entry.id)
        item.setToolTip(f"{entry.style} · {entry.model} · seed {entry.seed}\n{entry.source_name}")
        if at_end:
            self.addItem(item)
        else:
            self.insertItem(0, item)

    def remove_entry(self, entry_id: str) -> None:
        for row in range(self.count()):
            if self._id(self.item(row)) == entry_id:
                self.takeItem(row)
                return

    def entry_ids(self) -> list[str]:
        return [self._id(self.item(row)) for row in range(self.count())]

    @staticmethod
    def _id(item: QListWidgetItem) -> str:
        return item.data(Qt.ItemDataRole.UserRole)

    def _menu(self, position: QPoint) -> None:
        item = self.itemAt(position)
        if item is None:
            return
        entry_id = self._id(item)
        menu = QMenu(self)
        menu.addAction("Reopen settings", lambda: self.reopenSettings.emit(entry_id))
        menu.addAction("Export…", lambda: self.exportRequested.emit(entry_id))
        menu.addAction("Reveal in file manager", lambda: self.revealRequested.emit(entry_id))
        menu.addSeparator()
        menu.addAction("Delete", lambda: self.deleteRequested.emit(entry_id))
        menu.exec(self.mapToGlobal(position))
