"""Finding faces for the checks, behind a small interface.

OpenCV's headless wheel (5.x) ships no Haar cascades and YuNet needs a model file, so
the detector is dlib's HOG frontal-face detector: it is built into dlib (`dlib-bin`,
Boost licence) and needs no weights file. Without dlib, face checks report "skipped".
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Protocol

import numpy as np
from PIL import Image

# the long side the detector sees; it finds faces from ~80 px, so at 1024 px input
# faces of ~160 px and up (a portrait's face is far larger): ~0.15 s a call, where
# upsampling (small faces) would cost ~4x
DETECT_SIDE = 512
# every render's checks look at the same two images more than once (face_kept and the
# likeness score both need the photo's and the result's faces): remember the last few
REMEMBERED = 4


Box = tuple[int, int, int, int]  # left, top, right, bottom in the image's pixels


class FaceDetector(Protocol):
    def boxes(self, image: Image.Image) -> list[Box]: ...

    def count(self, image: Image.Image) -> int: ...


class DlibHogDetector:
    """dlib's frontal-face HOG detector; one call at a time (it keeps state)."""

    def __init__(self) -> None:
        import dlib

        self._detector = dlib.get_frontal_face_detector()
        self._lock = threading.Lock()
        self._seen: OrderedDict[tuple, list[Box]] = OrderedDict()

    def boxes(self, image: Image.Image) -> list[Box]:
        # keyed by the pixels, not the object: an image changed in place is a new image
        key = (image.size, image.mode, hashlib.blake2b(image.tobytes(), digest_size=16).digest())
        with self._lock:
            if key in self._seen:
                self._seen.move_to_end(key)
                return list(self._seen[key])
        found = self._detect(image)
        with self._lock:
            self._seen[key] = found
            while len(self._seen) > REMEMBERED:
                self._seen.popitem(last=False)
        return list(found)

    def _detect(self, image: Image.Image) -> list[Box]:
        scale = min(1.0, DETECT_SIDE / max(image.size))
        if scale < 1:
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            image = image.resize(size, Image.Resampling.BILINEAR)
        pixels = np.ascontiguousarray(np.asarray(image.convert("RGB")))
        with self._lock:
            found = self._detector(pixels, 0)
        edges = [(r.left(), r.top(), r.right(), r.bottom()) for r in found]
        return [tuple(round(edge / scale) for edge in box) for box in edges]  # type: ignore[misc]

    def count(self, image: Image.Image) -> int:
        return len(self.boxes(image))


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


def face_crop(image: Image.Image, margin: float = 0.4) -> Image.Image:
    """The largest face with `margin` of its size around it (what face adapters were
    trained on); the whole image when no face is found or no detector is installed."""
    detector = face_detector()
    boxes = detector.boxes(image) if detector is not None else []
    if not boxes:
        return image
    left, top, right, bottom = max(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
    pad = round(max(right - left, bottom - top) * margin)
    return image.crop(
        (
            max(0, left - pad),
            max(0, top - pad),
            min(image.width, right + pad),
            min(image.height, bottom + pad),
        )
    )
