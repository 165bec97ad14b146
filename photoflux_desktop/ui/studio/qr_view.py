"""A QR code for a URL, drawn at once from the URL alone (segno, no network), with the
address written under it for anyone who cannot scan.

Public API (the kiosk reuses it): `QrView(*, large=False)`, `set_url(url)`, `clear()`,
`url` and `image` (the QImage shown, None when cleared)."""

from __future__ import annotations

import io

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

QR_SCALE = 8  # pixels per module: sharp without resampling
QR_BORDER = 4  # the quiet zone the QR standard asks for


def qr_image(url: str) -> QImage:
    """The QR code of `url` as a black-on-white QImage."""
    import segno

    code = segno.make(url, error="m", micro=False)
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=QR_SCALE, border=QR_BORDER)
    image = QImage.fromData(buffer.getvalue(), "PNG")
    return image.convertToFormat(QImage.Format.Format_RGB32)


class QrView(QWidget):
    def __init__(self, *, large: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("qrView")
        self.url: str | None = None
        self.image: QImage | None = None
        self.code = QLabel()
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code.setAccessibleName("QR code")
        # a QR needs a light background and quiet zone whatever the theme is
        self.code.setStyleSheet("background: white;")
        self.address = QLabel()
        self.address.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.address.setWordWrap(True)
        self.address.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if large:
            font = self.address.font()
            font.setPointSize(18)
            self.address.setFont(font)
        layout = QVBoxLayout(self)
        layout.addWidget(self.code, 1)
        layout.addWidget(self.address)
        self.clear()

    def set_url(self, url: str) -> None:
        self.url = url
        self.image = qr_image(url)
        self.code.setPixmap(QPixmap.fromImage(self.image))
        self.code.show()
        self.address.setText(url)

    def clear(self) -> None:
        self.url, self.image = None, None
        self.code.clear()
        self.code.hide()
        self.address.clear()
