"""A widget that paints one image, fitted and centred, with an optional big overlay text
(the camera countdown) and caption. Holding the image as a QImage in one attribute makes
"clear the guest's picture" a single assignment that tests can check."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget


class ImageView(QWidget):
    def __init__(self, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.overlay = ""
        self.caption = ""
        self.placeholder = placeholder
        self.mirrored = False  # a selfie camera reads more naturally mirrored
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 120)

    def set_image(self, image: QImage | None) -> None:
        self.image = image
        self.update()

    def set_overlay(self, text: str) -> None:
        self.overlay = text
        self.update()

    def set_caption(self, text: str) -> None:
        self.caption = text
        self.update()

    def clear(self) -> None:
        self.image, self.overlay, self.caption = None, "", ""
        self.update()

    def image_rect(self) -> QRectF:
        if self.image is None or self.image.isNull():
            return QRectF()
        area = QRectF(self.rect()).adjusted(8, 8, -8, -8)
        scale = min(area.width() / self.image.width(), area.height() / self.image.height())
        w, h = self.image.width() * scale, self.image.height() * scale
        return QRectF(area.center().x() - w / 2, area.center().y() - h / 2, w, h)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        target = self.image_rect()
        if target.isEmpty():
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
        else:
            image = self.image.flipped(Qt.Orientation.Horizontal) if self.mirrored else self.image
            painter.drawImage(target, image)
        if self.caption and not target.isEmpty():
            self._paint_caption(painter, target)
        if self.overlay:
            self._paint_overlay(painter)

    def _paint_caption(self, painter: QPainter, target: QRectF) -> None:
        box = QRectF(target.left(), target.bottom() - 44, target.width(), 44)
        painter.fillRect(box, QColor(0, 0, 0, 130))
        painter.setPen(QColor("white"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, self.caption)

    def _paint_overlay(self, painter: QPainter) -> None:
        font = QFont(painter.font())
        font.setPixelSize(max(48, self.height() // 3))
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor(0, 0, 0, 150))
        painter.drawText(self.rect().translated(3, 3), Qt.AlignmentFlag.AlignCenter, self.overlay)
        painter.setPen(QColor("white"))
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.overlay)
