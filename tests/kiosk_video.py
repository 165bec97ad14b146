"""A tiny video file that stands in for a camera in kiosk tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

WIDTH, HEIGHT = 96, 64
COLOUR_RGB = (200, 120, 40)


def write_camera_video(path: Path, frames: int = 8, fps: float = 20.0) -> Path:
    """An MJPEG .avi (OpenCV writes and reads it without extra codecs) of a flat colour."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (WIDTH, HEIGHT))
    assert writer.isOpened()
    bgr = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    bgr[:] = COLOUR_RGB[::-1]
    for i in range(frames):
        frame = bgr.copy()
        frame[: 4 + i, :8] = 255  # a moving bar: frames differ
        writer.write(frame)
    writer.release()
    return path
