"""Printing a result through Qt's print dialog (the operator's printer)."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QWidget


def print_image(image: QImage, parent: QWidget) -> bool:
    """Asks for a printer, then prints `image` fitted to the page; False when cancelled."""
    from PySide6.QtPrintSupport import QPrintDialog, QPrinter

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    dialog = QPrintDialog(printer, parent)
    if not dialog.exec():
        return False
    painter = QPainter(printer)
    try:
        page = painter.viewport()  # the printable area, in device pixels
        size = image.size().scaled(page.size(), Qt.AspectRatioMode.KeepAspectRatio)
        x = page.x() + (page.width() - size.width()) // 2
        y = page.y() + (page.height() - size.height()) // 2
        painter.drawImage(QRect(x, y, size.width(), size.height()), image)
    finally:
        painter.end()
    return True
