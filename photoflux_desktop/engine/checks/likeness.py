"""Likeness score: is the person in the result still the person in the photo?

The main (largest) face of each image is found with dlib's HOG detector (checks/faces.py),
aligned with dlib's 5-point landmark model and turned into dlib's 128-number ResNet face
descriptor. Both weights come from the `face-recognition-models` package (public domain);
the 68-point landmark model it also ships is never used (its training data restricts
commercial use). This is a different model from the conditioning ones (ControlNet edges,
IP-Adapter's CLIP image features), so the score does not confirm itself.

Score: dlib's descriptors are compared by Euclidean distance, and dlib calls two faces the
same person below 0.6 (99.38 % on LFW). The score maps distance linearly onto 0..1:

    score = clamp(1 - distance / (2 * SAME_PERSON_DISTANCE), 0, 1)

so the same photo scores 1.0, dlib's same-person threshold scores exactly 0.5, and a
distance of 1.2 or more (clearly someone else) scores 0. A result below `WARN_SCORE`
(0.5: dlib would no longer call it the same person) fails the check.

Descriptors live only in memory, inside one call: nothing here stores, logs or returns
them; the result carries only the score.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from photoflux_desktop.engine.checks import CheckResult, timed
from photoflux_desktop.engine.checks.faces import DETECT_SIDE, Box, face_detector
from photoflux_desktop.engine.checks.quality import NO_PHOTO
from photoflux_desktop.engine.checks.summary import NO_FACE_IN_PHOTO

if TYPE_CHECKING:
    from photoflux_desktop.engine.checks.style_expect import StyleExpectations

SAME_PERSON_DISTANCE = 0.6  # dlib's documented threshold for its ResNet descriptor
WARN_SCORE = 0.5  # the score at that distance: below it, likeness was lost
STYLE_SCORE_MARGIN = 0.05  # below a style's own lowest reference score by this: lost
DESCRIBE_SIDE = 1024  # faces are cut from at most this size (dlib aligns to 150 px chips)
SHAPE_MODEL = "shape_predictor_5_face_landmarks.dat"
DESCRIPTOR_MODEL = "dlib_face_recognition_resnet_model_v1.dat"


def score_from_distance(distance: float) -> float:
    """The documented 0..1 score for a descriptor distance (0.6 -> 0.5)."""
    return float(min(1.0, max(0.0, 1.0 - distance / (2 * SAME_PERSON_DISTANCE))))


def models_folder() -> Path | None:
    """Where face-recognition-models keeps its .dat files, found without importing it
    (its __init__ imports pkg_resources, which newer setuptools no longer has)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        folder = Path(location) / "models"
        if (folder / SHAPE_MODEL).is_file() and (folder / DESCRIPTOR_MODEL).is_file():
            return folder
    return None


class DlibFaceIdentity:
    """5-point alignment + ResNet descriptor; one call at a time (dlib keeps state)."""

    def __init__(self, folder: Path) -> None:
        import dlib

        self._shape = dlib.shape_predictor(str(folder / SHAPE_MODEL))
        self._net = dlib.face_recognition_model_v1(str(folder / DESCRIPTOR_MODEL))
        self._dlib = dlib
        self._lock = threading.Lock()

    def descriptor(self, image: Image.Image, box: Box) -> np.ndarray:
        scale = min(1.0, DESCRIBE_SIDE / max(image.size))
        if scale < 1:
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            image = image.resize(size, Image.Resampling.BILINEAR)
            box = tuple(round(edge * scale) for edge in box)  # type: ignore[assignment]
        pixels = np.ascontiguousarray(np.asarray(image.convert("RGB")))
        rect = self._dlib.rectangle(*box)
        with self._lock:
            shape = self._shape(pixels, rect)
            return np.asarray(self._net.compute_face_descriptor(pixels, shape))


_loaded: dict[str, DlibFaceIdentity | None] = {}
_guard = threading.Lock()


def face_identity() -> DlibFaceIdentity | None:
    """The identity model, loaded once (thread-safe); None when dlib or the weights are
    not installed."""
    with _guard:
        if "identity" not in _loaded:
            folder = models_folder()
            try:
                _loaded["identity"] = DlibFaceIdentity(folder) if folder else None
            except (ImportError, RuntimeError):  # no dlib, or a damaged .dat file
                _loaded["identity"] = None
        return _loaded["identity"]


def preload_in_background() -> None:
    """Start loading the identity model (~2 s: dlib reads ~30 MB) while a render runs."""
    if "identity" not in _loaded:
        threading.Thread(target=face_identity, name="face-identity-load", daemon=True).start()


def main_face(image: Image.Image) -> Box | None:
    """The largest face dlib's detector finds, or None. A small image (a preview-size
    render) is enlarged first: the detector misses faces under ~80 px."""
    detector = face_detector()
    if detector is None:
        return None
    grow = DETECT_SIDE / max(image.size) if max(image.size) < DETECT_SIDE else 1.0
    if grow > 1:
        size = (round(image.width * grow), round(image.height * grow))
        image = image.resize(size, Image.Resampling.BICUBIC)
    boxes = detector.boxes(image)
    if not boxes:
        return None
    box = max(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
    return tuple(round(edge / grow) for edge in box)  # type: ignore[return-value]


@dataclass(frozen=True)
class LikenessMeasure:
    """What one comparison found; no descriptor is kept."""

    score: float | None  # None: nothing to compare
    photo_face: bool
    result_face: bool


def measure_likeness(output: Image.Image, source: Image.Image) -> LikenessMeasure | None:
    """The score of `output` against `source`; None when no model is installed."""
    if face_detector() is None or models_folder() is None:
        return None
    photo_box = main_face(source)  # first: a photo without a face never loads the model
    if photo_box is None:
        return LikenessMeasure(None, photo_face=False, result_face=False)
    identity = face_identity()
    if identity is None:
        return None
    result_box = main_face(output)
    if result_box is None:
        return LikenessMeasure(None, photo_face=True, result_face=False)
    distance = float(
        np.linalg.norm(
            identity.descriptor(source, photo_box) - identity.descriptor(output, result_box)
        )
    )
    return LikenessMeasure(score_from_distance(distance), photo_face=True, result_face=True)


# a scorer takes (output, photo) and measures them; tests inject one to force a path
Scorer = Callable[[Image.Image, Image.Image], "LikenessMeasure | None"]


def check_likeness(
    output: Image.Image,
    source: Image.Image | None,
    scorer: Scorer = measure_likeness,
    expect: StyleExpectations | None = None,
) -> CheckResult:
    """The identity score of `output` against `source`; `expect` (the style's reference
    renders) excuses a lost face only where the style's drawings hide faces from dlib."""
    if source is None:  # generated from text: nobody's likeness to keep
        return CheckResult("likeness", True, None, WARN_SCORE, NO_PHOTO, skipped=True)
    measure = scorer(output, source)
    if measure is None:
        return CheckResult(
            "likeness",
            True,
            None,
            WARN_SCORE,
            "Skipped: the face identity model is not installed.",
            skipped=True,
        )
    if not measure.photo_face:
        return CheckResult("likeness", True, None, WARN_SCORE, NO_FACE_IN_PHOTO, skipped=True)
    if not measure.result_face and expect is not None and expect.faces_unreliable:
        return CheckResult(
            "likeness",
            True,
            None,
            WARN_SCORE,
            "Not measured: this style draws faces the face detector rarely recognises "
            f"(found in {expect.face_kept_rate:.0%} of its reference renders).",
            skipped=True,
        )
    if not measure.result_face or measure.score is None:
        return CheckResult(
            "likeness", False, None, WARN_SCORE, "The photo has a face and the result has none."
        )
    limit = _limit(expect)
    passed = measure.score >= limit
    shown = math.floor(measure.score * 100) / 100  # 0.496 must not read "0.50 is below 0.50"
    if passed and measure.score >= WARN_SCORE:
        reason = f"Likeness {measure.score:.2f}: the same person as in the photo."
    elif passed:
        reason = (
            f"Likeness {shown:.2f}: this style redraws faces (its own reference renders "
            f"score down to {expect.likeness_min:.2f}), and this render is within that."  # type: ignore[union-attr]
        )
    else:
        reason = (
            f"Likeness {shown:.2f} is below {limit:.2f}: the person may no longer be recognisable."
        )
    return CheckResult("likeness", passed, measure.score, limit, reason)


def _limit(expect: StyleExpectations | None) -> float:
    """The score a render must reach: dlib's same-person line, lowered to what the style's
    own renders reach (a cartoon is less like a photo, by design), never raised."""
    if expect is None or expect.likeness_min is None:
        return WARN_SCORE
    return round(min(WARN_SCORE, expect.likeness_min - STYLE_SCORE_MARGIN), 2)


def timed_likeness(
    output: Image.Image,
    source: Image.Image | None,
    scorer: Scorer = measure_likeness,
    expect: StyleExpectations | None = None,
) -> CheckResult:
    return timed(check_likeness, output, source, scorer, expect)
