"""Render / Cancel, the progress bar and the status line (stage, step n/N, time left)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
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
        self.status = QLabel()
        self.status.setObjectName("muted")
        self.status.setWordWrap(True)
        # two lines, always: a longer status is cut (whole in the tooltip) rather than
        # growing the panel and pushing the Render button up under the pointer
        self.status.setFixedHeight(2 * self.status.fontMetrics().lineSpacing() + 4)
        self._status_text = ""
        self.set_status("Open a photo to begin")
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
        self._status_text = text
        self.status.setToolTip(text)
        self._fit_status()

    def status_text(self) -> str:
        """The whole status, however much of it fits on screen."""
        return self._status_text

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_status()

    def _fit_status(self) -> None:
        text = self._status_text
        if self._fits(text):
            self.status.setText(text)
            return
        words = text.split(" ")
        while len(words) > 1 and not self._fits(" ".join(words) + "…"):
            words.pop()
        self.status.setText(" ".join(words).rstrip(" ·,") + "…")

    def _fits(self, text: str) -> bool:
        width = max(40, self.status.width())
        box = self.status.fontMetrics().boundingRect(
            0, 0, width, 10_000, Qt.TextFlag.TextWordWrap, text
        )
        return box.height() <= self.status.height()
