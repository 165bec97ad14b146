"""NSFW screening time at 1024 px on this machine (median of several runs).

One screen is one detector call on one image; a render pays two (its photo and its
result), plus blurring and labelling when flagged. `load_ms` is the one-off cost of
loading NudeNet's ONNX model, paid once per process (the renderer starts it while a
render runs). Run: `python -m bench.nsfw`.
"""

from __future__ import annotations

import time

from PIL import Image

from bench._util import emit, summary_ms, time_runs
from photoflux_desktop.engine.checks import nsfw
from photoflux_desktop.engine.checks.censor import blur_and_label
from photoflux_desktop.engine.resources import sample_photo

RUNS = 7
SIDE = 1024


def main() -> None:
    photo = Image.open(sample_photo()).convert("RGB").resize((SIDE, SIDE), Image.LANCZOS)
    started = time.perf_counter()
    detector = nsfw.get_detector(nsfw.DEFAULT_DETECTOR)
    load_ms = round((time.perf_counter() - started) * 1000, 1)
    check = nsfw.screen(photo, "nsfw_output")
    emit(
        "nsfw_1024px",
        {
            "detector": type(detector).__name__,
            "load_ms": load_ms,
            "screen": summary_ms(time_runs(lambda: nsfw.screen(photo, "nsfw_output"), RUNS)),
            "blur_and_label": summary_ms(time_runs(lambda: blur_and_label(photo), RUNS)),
            "sample_passed": check.passed,
            "sample_value": check.value,
        },
    )


if __name__ == "__main__":
    main()
