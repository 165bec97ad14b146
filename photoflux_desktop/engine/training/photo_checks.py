"""Checks that decide whether a photo helps teach a subject, each with advice.

Cheap and model-free: resolution from the photo's own size, blur from the variance of
the Laplacian on a grey copy at `WORK_SIDE`, near-duplicates from a 64-bit difference
hash (dHash), faces from the engine's face detector when the subject is a person, and
variety from how far the photos' hashes are from each other on average.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from PIL import Image

from photoflux_desktop.engine.checks.faces import Box, face_detector

WORK_SIDE = 512
# variance of the Laplacian at WORK_SIDE: sharp photos score in the hundreds, a photo
# softened by a 3 px Gaussian blur scores below 20
BLUR_LIMIT = 35.0
DUPLICATE_BITS = 6  # dHashes this close (of 64 bits) are the same picture
LOW_VARIETY_BITS = 14  # mean pairwise distance below this: the photos look alike
PERSON_WORDS = frozenset(
    {"person", "man", "woman", "boy", "girl", "child", "kid", "baby", "face", "people"}
    | {"guy", "lady", "human"}
)


@dataclass(frozen=True)
class Issue:
    code: str  # "low_resolution", "blurred", "duplicate", "no_face", "several_faces", ...
    blocking: bool  # the photo is left out of training
    advice: str  # one sentence: what is wrong and what to do

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_person(class_word: str) -> bool:
    return class_word.strip().lower() in PERSON_WORDS


def dhash(image: Image.Image) -> int:
    """64-bit difference hash: brighter-than-right-neighbour bits of a 9x8 grey copy."""
    small = np.asarray(image.convert("L").resize((9, 8), Image.Resampling.LANCZOS), np.int16)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return int(sum(1 << i for i, bit in enumerate(bits) if bit))


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def sharpness(image: Image.Image) -> float:
    import cv2

    grey = image.convert("L")
    scale = WORK_SIDE / max(grey.size)
    if scale < 1:
        grey = grey.resize((round(grey.width * scale), round(grey.height * scale)))
    return float(cv2.Laplacian(np.asarray(grey), cv2.CV_32F).var())


def check_resolution(size: tuple[int, int], resolution: int) -> Issue | None:
    short = min(size)
    if short < resolution // 2:
        return Issue(
            "too_small",
            True,
            f"Only {size[0]}x{size[1]} pixels: too small to learn from at {resolution} px. "
            f"Use a photo at least {resolution} px on its short side.",
        )
    if short < resolution:
        return Issue(
            "low_resolution",
            False,
            f"{size[0]}x{size[1]} pixels is below the model's {resolution} px and will be "
            "enlarged (softer detail). A larger photo would help.",
        )
    return None


def check_blur(image: Image.Image) -> Issue | None:
    value = sharpness(image)
    if value < BLUR_LIMIT:
        return Issue(
            "blurred",
            True,
            f"The photo is blurred (sharpness {value:.0f}, needs {BLUR_LIMIT:.0f}): the "
            "model would learn the blur. Use a sharp photo.",
        )
    return None


def check_faces(image: Image.Image) -> tuple[Issue | None, list[Box]]:
    """One clear face for a person; (None, []) when no detector is installed."""
    detector = face_detector()
    if detector is None:
        return None, []
    boxes = detector.boxes(image)
    if not boxes:
        return (
            Issue(
                "no_face",
                True,
                "No face was found. Use photos where the face is clearly visible, "
                "facing the camera, not hidden by hair, glasses or hands.",
            ),
            boxes,
        )
    if len(boxes) > 1:
        return (
            Issue(
                "several_faces",
                True,
                f"{len(boxes)} faces were found; the model could learn the wrong person. "
                "Crop the photo to the subject alone.",
            ),
            boxes,
        )
    return None, boxes


def duplicate_of(hash_value: int, earlier: dict[str, int]) -> str | None:
    for name, other in earlier.items():
        if hamming(hash_value, other) <= DUPLICATE_BITS:
            return name
    return None


def variety_note(hashes: list[int]) -> str | None:
    """A dataset-level note when every photo looks alike (same pose, light, place)."""
    if len(hashes) < 3:
        return None
    distances = [hamming(a, b) for i, a in enumerate(hashes) for b in hashes[i + 1 :]]
    mean = sum(distances) / len(distances)
    if mean < LOW_VARIETY_BITS:
        return (
            "The photos look very alike. Vary the angle, expression, lighting and "
            "background so the model learns the subject, not one picture."
        )
    return None
