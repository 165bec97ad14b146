"""Before/after canvas: draggable split, side by side, hold-to-compare; shared zoom/pan.

Both images are drawn through one view transform (zoom + pan in image coordinates), so
zooming or panning always shows the same region of the before and the after image.
The wheel zooms about the point under the cursor; "Actual pixels" shows one image pixel
per screen pixel (below "fit" too, for a photo smaller than the view).
"""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QFont,
    QFontMetricsF,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

HANDLE_GRAB_PX = 14


class CompareMode(StrEnum):
    SPLIT = "split"
    SIDE_BY_SIDE = "side"
    AFTER = "after"


class CompareView(QWidget):
    photoDropped = Signal(str)  # a local file path
    imageDropped = Signal(QImage)  # pixels without a file (dragged from a browser)
    splitChanged = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setMinimumSize(240, 200)  # fits the centre column of an 800 px window
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self.before: QImage | None = None
        self.after: QImage | None = None
        self.mode = CompareMode.SPLIT
        self.split = 0.5
        self.holding = False  # hold-to-compare: show the original while held
        self.zoom = 1.0  # 1.0 = fit to the view
        self.center = QPointF(0.5, 0.5)  # view centre in image fractions
        self.placeholder = "Drop a photo here, or press Ctrl+O to open one"
        self.caption = "JPEG, PNG, TIFF or WebP · paste with Ctrl+V"
        self._dragging_split = False
        self._pan_from: QPointF | None = None
        self._drop_hover = False

    # -- content -----------------------------------------------------------------
    def set_before(self, image: QImage | None) -> None:
        self.before = image
        self.reset_view()

    def set_after(self, image: QImage | None) -> None:
        self.after = image
        self.update()

    def set_mode(self, mode: CompareMode) -> None:
        self.mode = CompareMode(mode)
        self.update()

    def set_split(self, fraction: float) -> None:
        self.split = min(1.0, max(0.0, fraction))
        self.splitChanged.emit(self.split)
        self.update()

    def set_holding(self, holding: bool) -> None:
        self.holding = holding
        self.update()

    def reset_view(self) -> None:
        self.zoom, self.center = 1.0, QPointF(0.5, 0.5)
        self.update()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom by `factor`, keeping the image point under `anchor` (widget coordinates;
        None: the view's centre) where it is."""
        pane = self._panes()[0]
        before = self.image_rect(pane)
        floor = min(1.0, self.actual_size_zoom())
        zoom = min(32.0, max(floor, self.zoom * factor))
        if before.isEmpty() or anchor is None or zoom <= 1.0:
            self.zoom = zoom
            self.update()
            return
        # the anchor's position as a fraction of the image, before the zoom
        fx = (anchor.x() - before.left()) / before.width()
        fy = (anchor.y() - before.top()) / before.height()
        self.zoom = zoom
        after = self.image_rect(pane)
        self.center = QPointF(
            min(1.0, max(0.0, fx + (pane.center().x() - anchor.x()) / after.width())),
            min(1.0, max(0.0, fy + (pane.center().y() - anchor.y()) / after.height())),
        )
        self.update()

    def actual_size_zoom(self) -> float:
        """The zoom at which one image pixel covers one physical screen pixel."""
        reference = self.before or self.after
        pane = self._panes()[0]
        if reference is None or pane.isEmpty():
            return 1.0
        fit = min(pane.width() / reference.width(), pane.height() / reference.height())
        return 1.0 / (fit * self.devicePixelRatioF())

    def zoom_actual_size(self) -> None:
        """1:1: image pixels on screen pixels, about the view's centre."""
        self.zoom = min(32.0, self.actual_size_zoom())
        self.update()

    def zoom_percent(self) -> int:
        """The zoom as users read it: 100 = actual pixels."""
        return round(100 * self.zoom / self.actual_size_zoom())

    # -- geometry ----------------------------------------------------------------
    def _panes(self) -> list[QRectF]:
        full = QRectF(self.rect()).adjusted(8, 8, -8, -8)
        if self.mode is CompareMode.SIDE_BY_SIDE and self.after is not None and not self.holding:
            half = (full.width() - 8) / 2
            return [
                QRectF(full.left(), full.top(), half, full.height()),
                QRectF(full.left() + half + 8, full.top(), half, full.height()),
            ]
        return [full]

    def image_rect(self, pane: QRectF) -> QRectF:
        """Where the (zoomed, panned) image lands inside `pane`."""
        reference = self.before or self.after
        if reference is None:
            return QRectF()
        scale = min(pane.width() / reference.width(), pane.height() / reference.height())
        scale *= self.zoom
        width, height = reference.width() * scale, reference.height() * scale
        left = pane.center().x() - self.center.x() * width
        top = pane.center().y() - self.center.y() * height
        if self.zoom <= 1.0:
            left, top = pane.center().x() - width / 2, pane.center().y() - height / 2
        return QRectF(left, top, width, height)

    def split_x(self) -> float:
        target = self.image_rect(self._panes()[0])
        return target.left() + target.width() * self.split

    # -- painting ----------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.base())
        if self.before is None and self.after is None:
            self._paint_empty(painter)
            return
        panes = self._panes()
        if len(panes) == 2:
            self._paint_image(painter, panes[0], self.before, "Before")
            self._paint_image(painter, panes[1], self.after, "After")
        elif self.holding or self.after is None:
            self._paint_image(painter, panes[0], self.before, "Before" if self.after else "")
        elif self.mode is CompareMode.AFTER or self.before is None:
            # no known original (a result from before sources were kept): never call
            # the result "Before"
            self._paint_image(painter, panes[0], self.after, "After")
        else:
            self._paint_split(painter, panes[0])
        if self.zoom != 1.0:  # "fit" needs no badge; any other zoom says how far
            corner = QRectF(self.rect()).bottomRight() - QPointF(64, 30)
            self._paint_label(painter, corner, f"{self.zoom_percent()}%")

    def _paint_image(
        self, painter: QPainter, pane: QRectF, image: QImage | None, label: str
    ) -> None:
        if image is None:
            return
        painter.save()
        painter.setClipRect(pane)
        painter.drawImage(self.image_rect(pane), image)
        painter.restore()
        if label:
            target = self.image_rect(pane).intersected(pane)
            self._paint_label(painter, target.topLeft() + QPointF(10, 10), label)

    def _paint_split(self, painter: QPainter, pane: QRectF) -> None:
        target = self.image_rect(pane)
        x = self.split_x()
        painter.save()
        painter.setClipRect(QRectF(pane.left(), pane.top(), x - pane.left(), pane.height()))
        painter.drawImage(target, self.before or self.after)
        painter.restore()
        painter.save()
        painter.setClipRect(QRectF(x, pane.top(), pane.right() - x, pane.height()))
        painter.drawImage(target, self.after)
        painter.restore()
        painter.setPen(QPen(QColor(255, 255, 255, 230), 2))
        painter.drawLine(QPointF(x, target.top()), QPointF(x, target.bottom()))
        handle = QRectF(x - 9, target.center().y() - 18, 18, 36)
        painter.setBrush(QColor(255, 255, 255, 230))
        painter.setPen(QPen(QColor(0, 0, 0, 90), 1))
        painter.drawRoundedRect(handle, 6, 6)
        self._paint_label(painter, QPointF(target.left() + 10, target.top() + 10), "Before")
        self._paint_label(painter, QPointF(target.right() - 60, target.top() + 10), "After")

    def _paint_label(self, painter: QPainter, at: QPointF, text: str) -> None:
        metrics = painter.fontMetrics()
        box = QRectF(at, metrics.size(0, text)).adjusted(-6, -3, 6, 3)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 140))
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(QColor("white"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def empty_area(self) -> QRectF:
        """The dashed drop target shown while no photo is open."""
        return QRectF(self.rect()).adjusted(24, 24, -24, -24)

    def empty_text_layout(self) -> list[tuple[QRectF, str, QFont]]:
        """Where the drop hint and its caption go: wrapped, stacked, centred in the dashed
        area, so a narrow centre column (an 800 px window) shows every word."""
        inner = self.empty_area().adjusted(12, 0, -12, 0)
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 1.25)
        lines = [(self.placeholder, big), (self.caption, QFont(self.font()))]
        flags = int(Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap)
        heights = [QFontMetricsF(f).boundingRect(inner, flags, t).height() for t, f in lines]
        gap = 12.0
        top = inner.center().y() - (sum(heights) + gap) / 2
        placed = []
        for (text, font), height in zip(lines, heights, strict=True):
            placed.append((QRectF(inner.left(), top, inner.width(), height), text, font))
            top += height + gap
        return placed

    def _paint_empty(self, painter: QPainter) -> None:
        area = self.empty_area()
        accent = self.palette().highlight().color()
        pen = QPen(accent if self._drop_hover else self.palette().mid().color(), 2)
        pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(area, 12, 12)
        colours = (self.palette().text().color(), self.palette().placeholderText().color())
        flags = int(Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap)
        for (box, text, font), colour in zip(self.empty_text_layout(), colours, strict=True):
            painter.setFont(font)
            painter.setPen(colour)
            painter.drawText(box, flags, text)

    # -- interaction -------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or (self.before is None):
            return
        in_split = self.mode is CompareMode.SPLIT and self.after is not None
        if in_split and (
            abs(event.position().x() - self.split_x()) <= HANDLE_GRAB_PX or self.zoom <= 1.0
        ):
            self._dragging_split = True
            self._move_split(event.position().x())
        elif self.zoom > 1.0:
            self._pan_from = event.position()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._dragging_split:
            self._move_split(event.position().x())
        elif self._pan_from is not None:
            target = self.image_rect(self._panes()[0])
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.center = QPointF(
                min(1.0, max(0.0, self.center.x() - delta.x() / max(1.0, target.width()))),
                min(1.0, max(0.0, self.center.y() - delta.y() / max(1.0, target.height()))),
            )
            self.update()
        near = abs(event.position().x() - self.split_x()) <= HANDLE_GRAB_PX
        self.setCursor(
            Qt.CursorShape.SplitHCursor
            if near and self.after is not None
            else Qt.CursorShape.ArrowCursor
        )

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._dragging_split = False
        self._pan_from = None

    def _move_split(self, x: float) -> None:
        target = self.image_rect(self._panes()[0])
        if target.width() > 0:
            self.set_split((x - target.left()) / target.width())

    def wheelEvent(self, event: QWheelEvent) -> None:
        if self.before is None and self.after is None:
            return
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_by(1.25**steps, event.position())

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.reset_view()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if mime.hasUrls() or mime.hasImage():
            self._drop_hover = True
            self.update()
            event.acceptProposedAction()

    def dragLeaveEvent(self, event: object) -> None:
        self._drop_hover = False
        self.update()

    def dropEvent(self, event: QDropEvent) -> None:
        self._drop_hover = False
        mime = event.mimeData()
        local = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
        if local:
            self.photoDropped.emit(local[0])
        elif mime.hasImage():
            self.imageDropped.emit(QImage(mime.imageData()))
        event.acceptProposedAction()
        self.update()
