"""The camera page: a live view, a countdown, then the photo; or a photo from a file.

The camera opens on a pool thread (a device can take a second to wake) and reads frames
on its own thread (engine/camera.py); a timer here only copies the newest frame to the
screen, so the GUI never waits on the device. OpenCV is reached through engine/lazy.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from photoflux_desktop.engine import lazy
from photoflux_desktop.engine.errors import PhotoFluxError
from photoflux_desktop.engine.intake import load_photo
from photoflux_desktop.ui.background import BackgroundJob, start_job
from photoflux_desktop.ui.kiosk.image_view import ImageView

if TYPE_CHECKING:
    from photoflux_desktop.engine.camera import CameraFeed

FRAME_MS = 40  # ~25 frames a second on screen
PHOTO_FILTER = "Photos (*.jpg *.jpeg *.png *.webp *.heic *.tif *.tiff)"


def frame_to_qimage(frame: np.ndarray) -> QImage:
    height, width = frame.shape[:2]
    data = np.ascontiguousarray(frame)
    return QImage(data.data, width, height, width * 3, QImage.Format.Format_RGB888).copy()


class CapturePage(QWidget):
    captured = Signal(object)  # PIL.Image
    failed = Signal(object)  # Error
    cameraReady = Signal()
    back = Signal()

    def __init__(self, countdown_s: int, tick_ms: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.countdown_s = countdown_s
        self.feed: CameraFeed | None = None
        self._opening: BackgroundJob | None = None
        self._generation = 0  # a feed that opens after the guest left is closed at once
        self._left = 0
        self.view = ImageView("Starting the camera…")
        self.view.mirrored = True
        self.message = QLabel("")
        self.message.setObjectName("kioskMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.shoot_button = QPushButton("Take my photo")
        self.shoot_button.setObjectName("kioskPrimary")
        self.shoot_button.setEnabled(False)
        self.shoot_button.clicked.connect(self.start_countdown)
        self.file_button = QPushButton("Use a photo file")
        self.file_button.clicked.connect(self.choose_file)
        back_button = QPushButton("Back")
        back_button.clicked.connect(self.back.emit)
        row = QHBoxLayout()
        row.addWidget(back_button)
        row.addStretch(1)
        row.addWidget(self.file_button)
        row.addWidget(self.shoot_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.message)
        layout.addLayout(row)
        self.frames = QTimer(self)
        self.frames.setInterval(FRAME_MS)
        self.frames.timeout.connect(self._show_frame)
        self.ticker = QTimer(self)
        self.ticker.setInterval(tick_ms)
        self.ticker.timeout.connect(self._tick)

    # -- camera ------------------------------------------------------------------
    def open_camera(self, source: str) -> None:
        self.stop()
        self._generation += 1
        generation = self._generation
        self.message.setText("")
        self._opening = start_job(
            lambda: lazy.camera_feed(source),
            returned=lambda feed: self._on_opened(feed, generation),
            errored=lambda exc: self._on_open_failed(exc, generation),
        )

    def _on_opened(self, feed: Any, generation: int) -> None:
        self._opening = None
        if generation != self._generation:
            feed.close()
            return
        self.feed = feed
        self.shoot_button.setEnabled(True)
        self.frames.start()
        self.cameraReady.emit()

    def _on_open_failed(self, exc: BaseException, generation: int) -> None:
        self._opening = None
        if generation != self._generation:
            return
        if isinstance(exc, PhotoFluxError):
            self.message.setText(f"{exc.error.message} You can use a photo file instead.")
        else:
            self.message.setText("The camera is not available. You can use a photo file.")
        self.view.placeholder = "No camera"
        self.view.update()

    def _show_frame(self) -> None:
        frame = self.feed.latest() if self.feed is not None else None
        if frame is not None:
            self.view.set_image(frame_to_qimage(frame))

    # -- taking the photo --------------------------------------------------------
    def start_countdown(self) -> None:
        if self.feed is None or self.ticker.isActive():
            return
        self.shoot_button.setEnabled(False)
        self._left = self.countdown_s
        if self._left <= 0:
            self._take()
            return
        self.view.set_overlay(str(self._left))
        self.ticker.start()

    def _tick(self) -> None:
        self._left -= 1
        if self._left > 0:
            self.view.set_overlay(str(self._left))
            return
        self.ticker.stop()
        self.view.set_overlay("")
        self._take()

    def _take(self) -> None:
        try:
            photo = self.feed.snapshot() if self.feed is not None else None
        except PhotoFluxError as exc:
            self.shoot_button.setEnabled(True)
            self.failed.emit(exc.error)
            return
        if photo is not None:
            self.stop()
            self.captured.emit(photo)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose your photo", "", PHOTO_FILTER)
        if path:
            self.use_file(path)

    def use_file(self, path: str) -> bool:
        try:
            photo = load_photo(path, max_side=2048)
        except PhotoFluxError as exc:
            self.failed.emit(exc.error)
            return False
        self.stop()
        self.captured.emit(photo.image)
        return True

    def stop(self) -> None:
        """Closes the camera and forgets every frame: nothing of the guest stays here."""
        self._generation += 1
        self.frames.stop()
        self.ticker.stop()
        if self.feed is not None:
            self.feed.close()
            self.feed = None
        self.view.clear()
        self.shoot_button.setEnabled(False)

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Stops, and waits for a camera still opening (leaving kiosk mode)."""
        self.stop()
        if self._opening is not None:
            self._opening.wait(timeout_ms)
