"""Each check's time at 1024 px on this machine (median of several runs).

The output is the sample photo put through an instant style, checked against the photo,
as after a real render (quality checks and style consistency). `check_dir_per_image` is
what `photoflux check DIR` spends on one written 1024 px file: decode, metadata, the
lone-image checks. `face_detector_load_ms` is the one-off cost of loading dlib's
detector, paid once per process (the renderer starts it while a render runs).
Run: `python -m bench.checks`.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from PIL import Image

from bench._util import emit, summary_ms, time_runs
from photoflux_desktop.engine.checks import faces, quality, timed
from photoflux_desktop.engine.checks.style import check_style_consistency
from photoflux_desktop.engine.folder_check import check_image
from photoflux_desktop.engine.instant_styles import apply_instant_style
from photoflux_desktop.engine.output import write_image
from photoflux_desktop.engine.provenance import build_record
from photoflux_desktop.engine.resources import sample_photo

RUNS = 7
SIDE = 1024


def main() -> None:
    photo = Image.open(sample_photo()).convert("RGB").resize((SIDE, SIDE), Image.LANCZOS)
    output = apply_instant_style(photo, "watercolor")
    started = time.perf_counter()
    faces.face_detector()
    load_ms = round((time.perf_counter() - started) * 1000, 1)
    per_check: dict[str, list[float]] = {}
    totals = time_runs(lambda: _collect(per_check, output, photo), RUNS)
    with tempfile.TemporaryDirectory() as folder:
        written = Path(folder) / "render.jpg"
        write_image(output, written, build_record(style="watercolor", backend="instant"))
        per_image = time_runs(lambda: check_image(written), RUNS)
    emit(
        "quality_checks_1024px",
        {
            "checks": {name: summary_ms(times) for name, times in per_check.items()},
            "all_checks": summary_ms(totals),
            "check_dir_per_image": summary_ms(per_image),
            "face_detector_load_ms": load_ms,
            "face_detector": type(faces.face_detector()).__name__,
        },
    )


def _collect(per_check: dict[str, list[float]], output: Image.Image, photo: Image.Image) -> None:
    found = quality.quality_checks(output, photo)
    found.append(timed(check_style_consistency, output, "watercolor", "instant"))
    for check in found:
        per_check.setdefault(check.name, []).append(check.time_s)


if __name__ == "__main__":
    main()
