"""The style grid: a tile per preset with its look, a badge, search and a category filter.

Tiles show each preset's instant look: the bundled sample portrait's until a photo is
open, then the user's own photo's (`set_preview`, fed by ui/instant_looks.py). A badge
says what a click does: "Instant" tiles apply at once, "AI" tiles need a diffusion
model and Render; an AI tile without an installed model says so on the tile. The grid
has 2 columns, 3 once the panel is wide enough, and tiles grow with the panel.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QImage,
    QKeyEvent,
    QKeySequence,
    QPixmap,
    QResizeEvent,
    QShortcut,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QListView,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from photoflux_desktop.engine.presets import Preset, categories, thumbnails_dir
from photoflux_desktop.ui.widgets.style_tile import (
    CATEGORY_ROLE,
    ID_ROLE,
    KIND_ROLE,
    PIXMAP_ROLE,
    SEARCH_ROLE,
    TileDelegate,
    badge_text,
)

ALL = "All styles"
MIN_TILE = 100  # narrowest tile; 3 columns once three of them fit
TEXT_LINES = 34  # room under the thumbnail for the name and the hint line


class StyleFilter(QSortFilterProxyModel):
    """Matches every search word against name, description, tags, category and badge."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._words: list[str] = []
        self._category = ALL

    def set_search(self, text: str) -> None:
        self._refilter(lambda: setattr(self, "_words", text.lower().split()))

    def set_category(self, category: str) -> None:
        self._refilter(lambda: setattr(self, "_category", category))

    def _refilter(self, change: Callable[[], None]) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt 6.9+: invalidateFilter is deprecated
            self.beginFilterChange()
            change()
            self.endFilterChange()
        else:
            change()
            self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:
        index = self.sourceModel().index(row, 0, parent)
        if self._category != ALL and index.data(CATEGORY_ROLE) != self._category:
            return False
        haystack = index.data(SEARCH_ROLE)
        return all(word in haystack for word in self._words)


class StyleGridView(QListView):
    """A grid of 2-3 columns that grow with the width; Enter activates the current tile."""

    activatedByKey = Signal(QModelIndex)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setMouseTracking(True)  # hover highlight
        self.setMinimumWidth(2 * MIN_TILE + 24)
        self._fit_columns()

    def columns(self) -> int:
        return max(1, self.viewport().width() // self.gridSize().width())

    def _fit_columns(self) -> None:
        # the scroll bar's room is always reserved, so showing it never changes the grid
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        usable = max(2 * MIN_TILE, self.width() - 2 * self.frameWidth() - bar - 2)
        columns = 3 if usable >= 3 * MIN_TILE else 2
        tile = usable // columns
        size = QSize(tile, tile + TEXT_LINES)
        if size != self.gridSize():
            self.setGridSize(size)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._fit_columns()
        super().resizeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.activatedByKey.emit(self.currentIndex())
            return
        super().keyPressEvent(event)


class StyleGallery(QWidget):
    styleChosen = Signal(str)  # the current tile changed (by the user or the program)
    lookActivated = Signal(str)  # the user clicked a tile or pressed Enter on it

    def __init__(self, presets: dict[str, Preset], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._presets = presets
        self.ai_ready = False
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search styles")
        self.search.setClearButtonEnabled(True)
        # not the window's first focus: a text field there would swallow Space (hold to
        # compare) from the moment the app opens; a click or Ctrl+F reaches it
        self.search.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        find = QShortcut(QKeySequence.StandardKey.Find, self)
        find.activated.connect(lambda: self.search.setFocus(Qt.FocusReason.ShortcutFocusReason))
        self.category = QComboBox()
        self.category.addItems([ALL, *categories(presets)])
        self.category.setToolTip("Show one kind of style")
        self.model = QStandardItemModel(self)
        self.proxy = StyleFilter(self)
        self.proxy.setSourceModel(self.model)
        self.view = StyleGridView()
        self.view.setModel(self.proxy)
        self.view.setItemDelegate(TileDelegate(self))
        self._fill(presets)
        self._lay_out()
        self.search.textChanged.connect(self.proxy.set_search)
        self.category.currentTextChanged.connect(self.proxy.set_category)
        self.search.installEventFilter(self)
        self.view.selectionModel().currentChanged.connect(self._on_current)
        self.view.clicked.connect(self._activate)
        self.view.activatedByKey.connect(self._activate)
        QTimer.singleShot(0, self._load_sample_thumbnails)  # after the window is on screen

    def _lay_out(self) -> None:
        filters = QHBoxLayout()
        filters.setContentsMargins(0, 0, 0, 0)
        filters.addWidget(self.search, 3)
        filters.addWidget(self.category, 2)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 0, 0)
        column.addLayout(filters)
        column.addWidget(self.view, 1)

    def _fill(self, presets: dict[str, Preset]) -> None:
        # instant looks first: they work now, with no model
        ordered = sorted(presets.values(), key=lambda p: (p.kind != "instant", p.name.lower()))
        for preset in ordered:
            item = QStandardItem(preset.name)
            item.setEditable(False)
            item.setData(preset.id, ID_ROLE)
            item.setData(preset.kind, KIND_ROLE)
            item.setData(preset.category, CATEGORY_ROLE)
            words = (preset.name, preset.description, preset.category, *preset.tags)
            item.setData(" ".join((*words, badge_text(preset.kind))).lower(), SEARCH_ROLE)
            item.setToolTip(self._tooltip(preset))
            self.model.appendRow(item)

    def _tooltip(self, preset: Preset) -> str:
        if preset.kind == "instant":
            how = "Instant look: applied as soon as you click it, no model needed."
        else:
            how = (
                "AI style: press Render to create it with a diffusion model. The tile shows "
                "its instant approximation; without a model, Render gives that approximation."
            )
        return f"<b>{preset.name}</b><br>{preset.description}<br><i>{how}</i>"

    def _load_sample_thumbnails(self) -> None:
        for row in range(self.model.rowCount()):
            item = self.model.item(row)
            if item.data(PIXMAP_ROLE) is not None:
                continue  # the user's photo got there first
            preset = self._presets[item.data(ID_ROLE)]
            pixmap = QPixmap(str(thumbnails_dir() / preset.thumbnail))
            if not pixmap.isNull():
                item.setData(pixmap, PIXMAP_ROLE)
        self.view.scrollToTop()

    # -- the user's photo ------------------------------------------------------------
    def set_preview(self, style_id: str, image: QImage) -> None:
        """Show `image` (the look on the open photo) on the style's tile."""
        item = self._item(style_id)
        if item is not None:
            item.setData(QPixmap.fromImage(image), PIXMAP_ROLE)

    def preview_key(self, style_id: str) -> int | None:
        """The cache key of the tile's picture (tests: which picture a tile shows)."""
        item = self._item(style_id)
        pixmap = item.data(PIXMAP_ROLE) if item is not None else None
        return pixmap.cacheKey() if pixmap is not None else None

    def set_ai_ready(self, ready: bool) -> None:
        """Whether a diffusion model is installed: AI tiles say so either way."""
        self.ai_ready = ready
        self.view.viewport().update()

    # -- selection -------------------------------------------------------------------
    def _item(self, style_id: str) -> QStandardItem | None:
        for row in range(self.model.rowCount()):
            if self.model.item(row).data(ID_ROLE) == style_id:
                return self.model.item(row)
        return None

    def _on_current(self, current: QModelIndex, previous: QModelIndex) -> None:
        if current.isValid():
            self.styleChosen.emit(current.data(ID_ROLE))

    def _activate(self, index: QModelIndex) -> None:
        if index.isValid():
            self.lookActivated.emit(index.data(ID_ROLE))

    def select(self, style_id: str) -> None:
        """Make `style_id` the current style without applying it (no scrolling)."""
        item = self._item(style_id)
        if item is None:
            return
        index = self.proxy.mapFromSource(item.index())
        if not index.isValid():  # filtered out: show everything again
            self.search.clear()
            self.category.setCurrentIndex(0)
            index = self.proxy.mapFromSource(item.index())
        bar = self.view.verticalScrollBar().value()
        self.view.setCurrentIndex(index)
        self.view.verticalScrollBar().setValue(bar)

    def current_style(self) -> str | None:
        index = self.view.currentIndex()
        return index.data(ID_ROLE) if index.isValid() else None

    def kind_of(self, style_id: str) -> str:
        return self._presets[style_id].kind

    def visible_styles(self) -> list[str]:
        """The style ids the grid shows now, in order (after search and category)."""
        return [self.proxy.index(row, 0).data(ID_ROLE) for row in range(self.proxy.rowCount())]

    def tile_rect(self, style_id: str) -> QRect:
        """Where a tile is, in the view's viewport (an empty rect when filtered out)."""
        item = self._item(style_id)
        if item is None:
            return QRect()
        return self.view.visualRect(self.proxy.mapFromSource(item.index()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Down from the search field continues into the grid, keyboard only
        if (
            watched is self.search
            and event.type() == QEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_Down
            and self.proxy.rowCount()
        ):
            self.view.setFocus()
            if not self.view.currentIndex().isValid():
                self.view.setCurrentIndex(self.proxy.index(0, 0))
            return True
        return super().eventFilter(watched, event)
