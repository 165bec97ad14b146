"""Big style tiles (the operator's few styles) beside the guest's photo."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from photoflux_desktop.engine.presets import bundled_presets, thumbnails_dir
from photoflux_desktop.ui.kiosk.image_view import ImageView

TILE = 200


class StylePage(QWidget):
    chosen = Signal(str)
    retake = Signal()

    def __init__(self, styles: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.photo_view = ImageView()
        self.photo_view.setMaximumWidth(420)
        title = QLabel("Pick your style")
        title.setObjectName("kioskTitle")
        self.tiles: dict[str, QToolButton] = {}
        grid = QGridLayout()
        columns = 2 if len(styles) <= 4 else 4
        presets = bundled_presets()
        for index, style_id in enumerate(styles):
            tile = self._tile(presets[style_id].name, presets[style_id].thumbnail)
            tile.clicked.connect(lambda _=False, s=style_id: self.chosen.emit(s))
            self.tiles[style_id] = tile
            grid.addWidget(tile, index // columns, index % columns)
        retake_button = QPushButton("Retake photo")
        retake_button.clicked.connect(self.retake.emit)
        left = QVBoxLayout()
        left.addWidget(self.photo_view, 1)
        left.addWidget(retake_button)
        right = QVBoxLayout()
        right.addWidget(title)
        right.addLayout(grid, 1)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 2)
        layout.addLayout(right, 3)

    def _tile(self, name: str, thumbnail: str) -> QToolButton:
        tile = QToolButton()
        tile.setObjectName("kioskTile")
        tile.setText(name)
        tile.setIcon(QIcon(QPixmap(str(thumbnails_dir() / thumbnail))))
        tile.setIconSize(QSize(TILE, TILE))
        tile.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        return tile

    def set_photo(self, image: QImage | None) -> None:
        self.photo_view.set_image(image)
