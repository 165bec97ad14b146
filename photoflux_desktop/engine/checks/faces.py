"""Finding faces for the checks, behind a small interface.

OpenCV's headless wheel (5.x) ships no Haar cascades and YuNet needs a model file, so
the detector is dlib's HOG frontal-face detector: it is built into dlib (`dlib-bin`,
Boost licence) and needs no weights file. Without dlib, face checks report "skipped".
"""

from __future__ import annotations

import threading
from typing import Protocol

import numpy as np
from PIL import Image

# the long side the detector sees; it finds faces from ~80 px, so at 1024 px input
# faces of ~160 px and up (a portrait's face is far larger): ~0.15 s a call, where
# upsampling (small faces) would cost ~4x
DETECT_SIDE = 512


class FaceDetector(Protocol):
    def count(self, image: Image.Image) -> int: ...


class DlibHogDetector:
    """dlib's frontal-face HOG detector; one call at a time (it keeps state)."""

    def __init__(self) -> None:
        import dlib

        self._detector = dlib.get_frontal_face_detector()
        self._lock = threading.Lock()

    def count(self, image: Image.Image) -> int:
        scale = DETECT_SIDE / max(image.size)
        if scale < 1:
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            image = image.resize(size, Image.Resampling.BILINEAR)
        pixels = np.ascontiguousarray(np.asarray(image.convert("RGB")))
        with self._lock:
            return len(self._detector(pixels, 0))


_loaded: dict[str, FaceDetector | None] = {}  # "detector" once it was tried
_guard = threading.Lock()


def preload_in_background() -> None:
    """Start loading the detector (~2 s: dlib deserialises it) while a render runs."""
    threading.Thread(target=face_detector, name="face-detector-load", daemon=True).start()


def face_detector() -> FaceDetector | None:
    """The installed detector, or None when there is none (dlib missing)."""
    with _guard:
        if "detector" not in _loaded:
            try:
                _loaded["detector"] = DlibHogDetector()
            except ImportError:
                _loaded["detector"] = None
        return _loaded["detector"]
