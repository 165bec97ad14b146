"""The attract screen: sample results cycle while nobody is using the kiosk.

Samples are the operator's own recent results from the library when there are any,
else the bundled style thumbnails. Guests' kiosk results never reach the library, so
nobody's photo is shown to the next person. Touching anywhere starts a session.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage, QMouseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from photoflux_desktop.engine.library import Library
from photoflux_desktop.engine.presets import bundled_presets, thumbnails_dir
from photoflux_desktop.ui.kiosk.image_view import ImageView

MAX_SAMPLES = 12


def sample_images(library: Library | None, styles: tuple[str, ...]) -> list[tuple[Path, str]]:
    """(image file, caption) pairs to cycle through."""
    presets = bundled_presets()
    if library is not None:
        entries = library.entries()[:MAX_SAMPLES]
        found = [
            (e.image_path, presets[e.style].name if e.style in presets else "")
            for e in entries
            if e.image_path.is_file()
        ]
        if found:
            return found
    ordered = list(styles) + [i for i in presets if i not in styles]
    return [(thumbnails_dir() / presets[i].thumbnail, presets[i].name) for i in ordered][
        :MAX_SAMPLES
    ]


class AttractPage(QWidget):
    started = Signal()
    operatorRequested = Signal()

    def __init__(
        self, samples: list[tuple[Path, str]], interval_ms: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.samples = samples
        self.index = -1
        title = QLabel("Turn your photo into art")
        title.setObjectName("kioskTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.view = ImageView()
        self.start_button = QPushButton("Touch to start")
        self.start_button.setObjectName("kioskPrimary")
        self.start_button.clicked.connect(self.started.emit)
        # small, in a corner: for the operator, behind the PIN
        self.operator_button = QPushButton("⚙")
        self.operator_button.setObjectName("kioskOperator")
        self.operator_button.setToolTip("Operator (PIN)")
        self.operator_button.setFixedSize(40, 40)
        self.operator_button.clicked.connect(self.operatorRequested.emit)
        top = QHBoxLayout()
        top.addStretch(1)
        top.addWidget(self.operator_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(title)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.start_button, 0, Qt.AlignmentFlag.AlignHCenter)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.next_sample)

    def begin(self) -> None:
        self.next_sample()
        self.timer.start()

    def end(self) -> None:
        self.timer.stop()

    def next_sample(self) -> None:
        if not self.samples:
            return
        self.index = (self.index + 1) % len(self.samples)
        path, caption = self.samples[self.index]
        image = QImage(str(path))
        self.view.set_image(None if image.isNull() else image)
        self.view.set_caption(caption)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.started.emit()
        super().mousePressEvent(event)
