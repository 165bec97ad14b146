"""Render / Cancel, the progress bar and the status line (stage, step n/N, time left)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from photoflux_desktop.engine.request import ProgressEvent, Stage


class ProgressPanel(QWidget):
    renderRequested = Signal()
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        self.render_button = QPushButton("Render")
        self.render_button.setObjectName("primary")
        self.render_button.setToolTip("Render with the chosen style (Ctrl+R)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the render (Esc)")
        self.cancel_button.setEnabled(False)
        buttons.addWidget(self.render_button, 1)
        buttons.addWidget(self.cancel_button)
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(8)
        self.status = QLabel("Open a photo to begin")
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)
        layout.addLayout(buttons)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        self.render_button.clicked.connect(self.renderRequested)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.set_busy(False)

    def set_busy(self, busy: bool) -> None:
        self.render_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        if busy:
            self.bar.setRange(0, 0)  # indeterminate until steps are known (model loading)
        elif self.bar.maximum() == 0:
            self.reset_bar()

    def reset_bar(self) -> None:
        self.bar.setRange(0, 1)
        self.bar.setValue(0)

    def show_progress(self, event: ProgressEvent) -> None:
        if event.stage is Stage.DENOISING and event.total:
            self.bar.setRange(0, event.total)
            self.bar.setValue(event.step)
        elif event.stage is Stage.DONE:
            self.bar.setRange(0, 1)
            self.bar.setValue(1)

    def set_status(self, text: str) -> None:
        self.status.setText(text)
