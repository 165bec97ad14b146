"""The likeness score table and the likeness check's time at 1024 px on this machine.

Table: the sample portrait against itself, a flipped + recoloured copy, every instant
style (full and 60 % amount), a different person (Grace Hopper, tests/data) and a photo
without a face. Time: one `check_likeness` (two face detections, two 5-point alignments,
two ResNet descriptors) of a 1024 px render against its 1024 px photo, median of several
runs; `model_load_ms` is the one-off load of dlib's models, once per process.
Run: `python -m bench.likeness_score`.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from bench._util import emit, summary_ms, time_runs
from photoflux_desktop.engine.checks.faces import face_detector
from photoflux_desktop.engine.checks.likeness import (
    SAME_PERSON_DISTANCE,
    WARN_SCORE,
    check_likeness,
    face_identity,
)
from photoflux_desktop.engine.instant_styles import INSTANT_STYLES, apply_instant_style

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
RUNS = 5
SIDE = 1024


def _open(name: str) -> Image.Image:
    with Image.open(DATA / name) as image:
        return image.convert("RGB")


def _recoloured(photo: Image.Image) -> Image.Image:
    pixels = np.asarray(ImageOps.mirror(photo), dtype=np.float32)[..., [2, 0, 1]]
    return Image.fromarray(np.clip(pixels * 0.8 + 30, 0, 255).astype(np.uint8))


def _row(output: Image.Image, photo: Image.Image) -> dict[str, object]:
    check = check_likeness(output, photo)
    score = None if check.value is None else round(check.value, 3)
    return {"score": score, "passed": check.passed, "reason": check.reason}


def main() -> None:
    started = time.perf_counter()
    face_detector()
    face_identity()
    load_ms = round((time.perf_counter() - started) * 1000, 1)
    photo = _open("astronaut.png")
    table = {
        "same photo": _row(photo, photo),
        "flipped + recoloured": _row(_recoloured(photo), photo),
    }
    for style_id in INSTANT_STYLES:
        table[f"instant {style_id}"] = _row(apply_instant_style(photo, style_id), photo)
        table[f"instant {style_id} 60%"] = _row(apply_instant_style(photo, style_id, 0.6), photo)
    table["another person (grace_hopper.jpg)"] = _row(_open("grace_hopper.jpg"), photo)
    table["photo without a face (chelsea.jpg)"] = _row(photo, _open("chelsea.jpg"))
    big = photo.resize((SIDE, SIDE), Image.LANCZOS)
    styled = apply_instant_style(big, "watercolor")
    times = time_runs(lambda: check_likeness(styled, big), RUNS)
    emit(
        "likeness_score",
        {
            "scale": f"score = 1 - distance / {2 * SAME_PERSON_DISTANCE:g}, clamped to 0..1; "
            f"dlib's same-person distance {SAME_PERSON_DISTANCE} = score {WARN_SCORE}",
            "table": table,
            "check_1024px": summary_ms(times),
            "model_load_ms": load_ms,
        },
    )


if __name__ == "__main__":
    main()
