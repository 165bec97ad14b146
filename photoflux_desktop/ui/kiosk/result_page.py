"""Rendering with progress, then the before/after reveal and the ways to take it home."""

from __future__ import annotations

from PySide6.QtCore import QEasingCurve, Qt, QVariantAnimation, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from photoflux_desktop.engine.request import ProgressEvent
from photoflux_desktop.ui.widgets.compare_view import CompareMode, CompareView

REVEAL_TO = 0.3  # where the before/after line rests after the reveal: mostly the result


class ResultPage(QWidget):
    takeHome = Signal()
    printRequested = Signal()
    startOver = Signal()
    otherStyle = Signal()
    cancelRequested = Signal()
    revealed = Signal()

    def __init__(self, reveal_ms: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.compare = CompareView()
        self.compare.setAcceptDrops(False)  # guests bring photos through the camera page
        self.compare.placeholder = ""
        self.compare.caption = ""
        self.status = QLabel("")
        self.status.setObjectName("kioskMessage")
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton("Stop")
        self.cancel_button.clicked.connect(self.cancelRequested.emit)
        self.home_button = QPushButton("Send it to me")
        self.home_button.setObjectName("kioskPrimary")
        self.home_button.clicked.connect(self.takeHome.emit)
        self.print_button = QPushButton("Print")
        self.print_button.clicked.connect(self.printRequested.emit)
        self.again_button = QPushButton("Start over")
        self.again_button.clicked.connect(self.startOver.emit)
        self.style_button = QPushButton("Try another style")
        self.style_button.clicked.connect(self.otherStyle.emit)
        self.actions_row = QWidget()
        row = QHBoxLayout(self.actions_row)
        row.addWidget(self.again_button)
        row.addWidget(self.style_button)
        row.addStretch(1)
        row.addWidget(self.print_button)
        row.addWidget(self.home_button)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.bar, 1)
        progress_row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.compare, 1)
        layout.addWidget(self.status)
        layout.addLayout(progress_row)
        layout.addWidget(self.actions_row)
        self.animation = QVariantAnimation(self)
        self.animation.setDuration(max(1, reveal_ms))
        self.animation.setEasingCurve(QEasingCurve.Type.InOutCubic)
        self.animation.valueChanged.connect(lambda value: self.compare.set_split(float(value)))
        self.animation.finished.connect(self.revealed.emit)

    def begin(self, photo: QImage, style_name: str) -> None:
        """A render started: the photo on screen, the progress bar moving."""
        self.animation.stop()
        self.compare.set_mode(CompareMode.AFTER)
        self.compare.set_before(photo)
        self.compare.set_after(None)
        self.bar.setRange(0, 0)
        self.bar.setVisible(True)
        self.cancel_button.setVisible(True)
        self.actions_row.setVisible(False)
        self.home_button.setVisible(True)
        self.print_button.setVisible(True)
        self.status.setText(f"Painting you in {style_name}…")

    def show_progress(self, event: ProgressEvent, preview: QImage | None) -> None:
        if event.total:
            self.bar.setRange(0, event.total)
            self.bar.setValue(event.step)
        if preview is not None:
            self.compare.set_after(preview)

    def reveal(self, result: QImage) -> None:
        """The finished result slides in over the photo, left to right."""
        self.bar.setVisible(False)
        self.cancel_button.setVisible(False)
        self.compare.set_after(result)
        self.compare.set_mode(CompareMode.SPLIT)
        self.compare.set_split(1.0)
        self.status.setText("Ta-da! Drag the line to compare.")
        self.actions_row.setVisible(True)
        self.animation.setStartValue(1.0)
        self.animation.setEndValue(REVEAL_TO)
        self.animation.start()

    def show_failure(self, text: str) -> None:
        self.animation.stop()
        self.compare.set_after(None)
        self.bar.setVisible(False)
        self.cancel_button.setVisible(False)
        self.status.setText(text)
        self.actions_row.setVisible(True)
        self.home_button.setVisible(False)
        self.print_button.setVisible(False)

    def clear(self) -> None:
        self.animation.stop()
        self.compare.set_before(None)
        self.compare.set_after(None)
        self.status.setText("")
        self.home_button.setVisible(True)
        self.print_button.setVisible(True)
