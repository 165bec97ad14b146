"""PIL <-> Qt image conversion (kept in one place; always copies, never shares buffers)."""

from __future__ import annotations

from PIL import Image
from PySide6.QtGui import QImage, QPixmap


def pil_to_qimage(image: Image.Image) -> QImage:
    rgb = image.convert("RGB")
    data = rgb.tobytes("raw", "RGB")
    qimage = QImage(data, rgb.width, rgb.height, rgb.width * 3, QImage.Format.Format_RGB888)
    return qimage.copy()  # detach from `data`, which Python may free


def pil_to_pixmap(image: Image.Image) -> QPixmap:
    return QPixmap.fromImage(pil_to_qimage(image))


def qimage_to_pil(qimage: QImage) -> Image.Image:
    converted = qimage.convertToFormat(QImage.Format.Format_RGB888)
    width, height = converted.width(), converted.height()
    stride = converted.bytesPerLine()
    raw = bytes(converted.constBits())[: stride * height]
    return Image.frombuffer("RGB", (width, height), raw, "raw", "RGB", stride, 1).copy()
