"""A QR code for a URL, drawn at once from the URL alone (segno, no network), with the
address written under it for anyone who cannot scan.

Public API (the kiosk reuses it): `QrView(*, large=False)`, `set_url(url)`, `clear()`,
`url` and `image` (the QImage shown, None when cleared)."""

from __future__ import annotations

import io

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

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
        self.large = large
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
            # the token is one long word: it wraps (see _breakable) instead of widening the
            # column until the kiosk's consent text beside it is clipped
            self.address.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout = QVBoxLayout(self)
        layout.addWidget(self.code, 1)
        layout.addWidget(self.address)
        self.clear()

    def set_url(self, url: str) -> None:
        self.url = url
        self.image = qr_image(url)
        self.code.setPixmap(QPixmap.fromImage(self.image))
        self.code.show()
        self.address.setText(_breakable(url) if self.large else url)

    def clear(self) -> None:
        self.url, self.image = None, None
        self.code.clear()
        self.code.hide()
        self.address.clear()


def _breakable(url: str, every: int = 12) -> str:
    """`url` with invisible break opportunities, so a word-wrapped label can wrap it."""
    return "\u200b".join(url[i : i + every] for i in range(0, len(url), every))
