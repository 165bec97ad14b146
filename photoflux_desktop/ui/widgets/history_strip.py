"""The library strip: past results grouped by the photo they were made from.

Each group opens with a tile of its source photo; each result is captioned with its
style's name and the time it was made (★ for favourites). Several results can be
selected (Ctrl/Shift+click) for export or delete; Delete removes them with undo.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QKeyEvent, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from photoflux_desktop.engine.library import LibraryEntry
from photoflux_desktop.engine.presets import bundled_presets

ID_ROLE = Qt.ItemDataRole.UserRole
GROUP_ROLE = Qt.ItemDataRole.UserRole + 1  # set on a group's header tile
TILE = QSize(96, 104)


def style_name(style_id: str) -> str:
    preset = bundled_presets().get(style_id)
    return preset.name if preset else style_id


def caption(entry: LibraryEntry, now: float | None = None) -> str:
    """'★ Watercolor\n14:32' (older than today: '3 Nov 14:32')."""
    made = time.localtime(entry.created)
    today = time.localtime(now or time.time())[:3] == made[:3]
    when = time.strftime("%H:%M", made)
    if not today:
        when = time.strftime("%d %b ", made).lstrip("0") + when
    star = "★ " if entry.favourite else ""
    return f"{star}{style_name(entry.style)}\n{when}"


class TileDelegate(QStyledItemDelegate):
    """Icon on top, a caption of up to two lines under it (Qt's icon mode sizes a
    two-line caption as one line and paints it over the icon)."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return TILE

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        rect, palette = option.rect, option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        if selected:
            painter.fillRect(rect.adjusted(2, 2, -2, -2), palette.highlight())
        icon = index.data(Qt.ItemDataRole.DecorationRole)
        side = TILE.height() - 42
        if isinstance(icon, QIcon) and not icon.isNull():
            icon_rect = QRect(rect.center().x() - side // 2, rect.top() + 4, side, side)
            icon.paint(painter, icon_rect)
        font = index.data(Qt.ItemDataRole.FontRole)
        if font is not None:
            painter.setFont(font)
        painter.setPen(palette.highlightedText().color() if selected else palette.text().color())
        text_rect = QRect(rect.left() + 2, rect.top() + side + 6, rect.width() - 4, 36)
        lines = [
            painter.fontMetrics().elidedText(line, Qt.TextElideMode.ElideRight, text_rect.width())
            for line in str(index.data(Qt.ItemDataRole.DisplayRole) or "").split("\n")
        ]
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter, "\n".join(lines))
        painter.restore()


class HistoryStrip(QListWidget):
    opened = Signal(str)  # entry id: show it
    reopenSettings = Signal(str)
    deleteRequested = Signal(list)  # entry ids
    revealRequested = Signal(str)
    exportRequested = Signal(list)  # entry ids
    favouriteRequested = Signal(list, bool)
    useAsPhotoRequested = Signal(str)
    moreLikeThisRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setItemDelegate(TileDelegate(self))
        self.setIconSize(QSize(64, 64))
        self.setGridSize(QSize(100, 108))
        self.setWordWrap(True)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        # one row of tiles plus the scroll bar, whatever the theme makes it
        bar = self.horizontalScrollBar().sizeHint().height()
        self.setFixedHeight(108 + bar + 2 * self.frameWidth() + 4)
        self.setMovement(QListView.Movement.Static)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.itemActivated.connect(self._open)
        self.itemClicked.connect(self._open)
        self.favourites_only = False
        self.source_thumb = lambda key: None  # set by the owner: key -> Path | None
        self._entries: list[LibraryEntry] = []
        self._icons: dict[str, QIcon] = {}

    # -- content -----------------------------------------------------------------
    def set_entries(self, entries: list[LibraryEntry]) -> None:
        self._entries = list(entries)
        self._rebuild()

    def add_entry(self, entry: LibraryEntry, at_end: bool = False) -> None:
        self._entries = [e for e in self._entries if e.id != entry.id]
        self._entries.insert(len(self._entries) if at_end else 0, entry)
        self._rebuild()

    def update_entry(self, entry: LibraryEntry) -> None:
        self._entries = [entry if e.id == entry.id else e for e in self._entries]
        self._rebuild()

    def remove_entries(self, entry_ids: list[str]) -> None:
        gone = set(entry_ids)
        self._entries = [e for e in self._entries if e.id not in gone]
        self._rebuild()

    def remove_entry(self, entry_id: str) -> None:
        self.remove_entries([entry_id])

    def set_favourites_only(self, only: bool) -> None:
        self.favourites_only = only
        self._rebuild()

    def entry(self, entry_id: str) -> LibraryEntry | None:
        return next((e for e in self._entries if e.id == entry_id), None)

    def entry_ids(self) -> list[str]:
        """Shown results in display order (group headers left out)."""
        items = (self.item(row) for row in range(self.count()))
        return [item.data(ID_ROLE) for item in items if item.data(ID_ROLE)]

    def selected_ids(self) -> list[str]:
        return [i.data(ID_ROLE) for i in self.selectedItems() if i.data(ID_ROLE)]

    def group_headers(self) -> list[str]:
        items = (self.item(row) for row in range(self.count()))
        return [item.text() for item in items if item.data(GROUP_ROLE)]

    def item_for(self, entry_id: str) -> QListWidgetItem | None:
        for row in range(self.count()):
            if self.item(row).data(ID_ROLE) == entry_id:
                return self.item(row)
        return None

    def _rebuild(self) -> None:
        selected = set(self.selected_ids())
        self.clear()
        groups: dict[str, list[LibraryEntry]] = {}
        for entry in self._entries:  # newest first: groups ordered by their newest result
            if entry.favourite or not self.favourites_only:
                groups.setdefault(entry.group_key, []).append(entry)
        for key, members in groups.items():
            self.addItem(self._header(key, members[0]))
            for entry in members:
                item = QListWidgetItem(self._icon(entry), caption(entry))
                item.setData(ID_ROLE, entry.id)
                item.setToolTip(
                    f"{style_name(entry.style)} · {entry.model} · seed {entry.seed}\n"
                    f"from {entry.source_name}"
                )
                self.addItem(item)
                item.setSelected(entry.id in selected)

    def _header(self, key: str, entry: LibraryEntry) -> QListWidgetItem:
        thumb = self.source_thumb(entry.source_key) if entry.source_key else None
        icon = QIcon(QPixmap(str(thumb))) if thumb and Path(thumb).is_file() else QIcon()
        name = entry.source_name if len(entry.source_name) <= 16 else entry.source_name[:14] + "…"
        item = QListWidgetItem(icon, name)
        item.setData(GROUP_ROLE, key)
        item.setToolTip(f"Results made from {entry.source_name}")
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)  # a label, not a result: never selected
        font = item.font()
        font.setBold(True)
        item.setFont(font)
        return item

    def _icon(self, entry: LibraryEntry) -> QIcon:
        if entry.id not in self._icons:
            self._icons[entry.id] = QIcon(QPixmap(str(entry.thumb_path)))
        return self._icons[entry.id]

    # -- interaction -------------------------------------------------------------
    def _open(self, item: QListWidgetItem) -> None:
        if item.data(ID_ROLE):
            self.opened.emit(item.data(ID_ROLE))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.selected_ids():
            self.deleteRequested.emit(self.selected_ids())
            return
        super().keyPressEvent(event)

    def _menu(self, position: QPoint) -> None:
        item = self.itemAt(position)
        if item is None or not item.data(ID_ROLE):
            return
        if not item.isSelected():
            self.clearSelection()
            item.setSelected(True)
        self.build_menu(item.data(ID_ROLE)).exec(self.mapToGlobal(position))

    def build_menu(self, entry_id: str) -> QMenu:
        """The context menu of a result (and the rest of the selection)."""
        selected = self.selected_ids()
        ids = selected if entry_id in selected else [entry_id]  # a right-click outside acts on it
        entry = self.entry(entry_id)
        many = f" {len(ids)} results" if len(ids) > 1 else ""
        menu = QMenu(self)
        menu.addAction("Use as new photo", lambda: self.useAsPhotoRequested.emit(entry_id))
        more = menu.addAction("More like this", lambda: self.moreLikeThisRequested.emit(entry_id))
        if entry is not None and entry.backend != "diffusion":
            more.setEnabled(False)  # instant styles ignore the seed: it would be the same
            more.setToolTip("Instant styles give the same result every time")
        menu.addAction("Reopen settings", lambda: self.reopenSettings.emit(entry_id))
        fav = entry is not None and entry.favourite
        menu.addAction(
            ("Remove from favourites" if fav else "Add to favourites") + many,
            lambda: self.favouriteRequested.emit(ids, not fav),
        )
        menu.addSeparator()
        menu.addAction("Export" + many + "…", lambda: self.exportRequested.emit(ids))
        menu.addAction("Reveal in file manager", lambda: self.revealRequested.emit(entry_id))
        menu.addSeparator()
        menu.addAction("Delete" + many, lambda: self.deleteRequested.emit(ids))
        menu.setToolTipsVisible(True)
        return menu
