"""One style tile, painted: the look, an Instant/AI badge, the name and what a click does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

if TYPE_CHECKING:
    from photoflux_desktop.ui.widgets.style_gallery import StyleGallery

ID_ROLE = Qt.ItemDataRole.UserRole + 1
KIND_ROLE = Qt.ItemDataRole.UserRole + 2
CATEGORY_ROLE = Qt.ItemDataRole.UserRole + 3
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 4
PIXMAP_ROLE = Qt.ItemDataRole.UserRole + 5

INSTANT_GREEN = QColor(46, 157, 91)
AI_PURPLE = QColor(124, 92, 255)


def badge_text(kind: str) -> str:
    return "Instant" if kind == "instant" else "AI"


def tile_hint(kind: str, ai_ready: bool) -> str:
    """The second line of a tile: what clicking it does."""
    if kind == "instant":
        return "Applies on click"
    return "Render with AI" if ai_ready else "Needs a model"


class TileDelegate(QStyledItemDelegate):
    """Paints a tile: the look, its badge, the name and what a click does."""

    def __init__(self, gallery: StyleGallery) -> None:
        super().__init__(gallery)
        self.gallery = gallery

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return self.gallery.view.gridSize()

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = option.palette
        tile = option.rect.adjusted(3, 3, -3, -3)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected or option.state & QStyle.StateFlag.State_MouseOver:
            colour = QColor(palette.color(QPalette.ColorRole.Highlight))
            colour.setAlpha(90 if selected else 35)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(tile, 7, 7)
        side = tile.width() - 8
        thumb = QRect(tile.left() + 4, tile.top() + 4, side, side)
        self._paint_thumbnail(painter, thumb, index.data(PIXMAP_ROLE))
        kind = index.data(KIND_ROLE)
        self._paint_badge(painter, thumb, kind)
        self._paint_text(painter, thumb, tile, index, palette)
        if option.state & QStyle.StateFlag.State_HasFocus:
            painter.setPen(palette.color(QPalette.ColorRole.Highlight))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(tile, 7, 7)
        painter.restore()

    def _paint_thumbnail(self, painter: QPainter, rect: QRect, pixmap: QPixmap | None) -> None:
        path = QPainterPath()
        path.addRoundedRect(rect, 5, 5)
        painter.setClipPath(path)
        if pixmap is None or pixmap.isNull():
            painter.fillRect(rect, QColor(128, 128, 128, 60))
        else:
            scaled = pixmap.scaled(
                rect.size(),
                Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                Qt.TransformationMode.SmoothTransformation,
            )
            left = (scaled.width() - rect.width()) // 2
            top = (scaled.height() - rect.height()) // 2
            painter.drawPixmap(rect, scaled, QRect(left, top, rect.width(), rect.height()))
        painter.setClipping(False)

    def _paint_badge(self, painter: QPainter, thumb: QRect, kind: str) -> None:
        text = badge_text(kind)
        font = painter.font()
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.78))
        font.setBold(True)
        painter.setFont(font)
        width = painter.fontMetrics().horizontalAdvance(text) + 10
        height = painter.fontMetrics().height() + 2
        pill = QRect(thumb.left() + 5, thumb.top() + 5, width, height)
        ready = kind == "instant" or self.gallery.ai_ready
        colour = INSTANT_GREEN if kind == "instant" else AI_PURPLE
        if not ready:  # an AI style without a model: outlined, not filled
            painter.setBrush(QColor(20, 20, 24, 170))
            painter.setPen(colour.lighter(130))
        else:
            painter.setBrush(colour)
            painter.setPen(Qt.PenStyle.NoPen)
        painter.drawRoundedRect(pill, height / 2, height / 2)
        painter.setPen(QColor("white"))
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_text(
        self,
        painter: QPainter,
        thumb: QRect,
        tile: QRect,
        index: QModelIndex,
        palette: QPalette,
    ) -> None:
        kind = index.data(KIND_ROLE)
        font = self.gallery.font()
        painter.setFont(font)
        metrics = painter.fontMetrics()
        name_rect = QRect(tile.left() + 4, thumb.bottom() + 3, tile.width() - 8, metrics.height())
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        name = metrics.elidedText(
            index.data(Qt.ItemDataRole.DisplayRole), Qt.TextElideMode.ElideRight, name_rect.width()
        )
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignLeft, name)
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.85))
        painter.setFont(font)
        hint = tile_hint(kind, self.gallery.ai_ready)
        hint_rect = name_rect.translated(0, metrics.height())
        ready = kind == "instant" or self.gallery.ai_ready
        colour = palette.color(QPalette.ColorRole.PlaceholderText)
        painter.setPen(colour if ready else QColor(214, 140, 60))
        hint = painter.fontMetrics().elidedText(
            hint, Qt.TextElideMode.ElideRight, hint_rect.width()
        )
        painter.drawText(hint_rect, Qt.AlignmentFlag.AlignLeft, hint)
