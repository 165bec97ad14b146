"""Intake of a 24-megapixel JPEG (6000×4000) to a 1024 px working image."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from bench._util import emit, summary_ms, time_runs
from photoflux_desktop.engine.intake import load_photo
from photoflux_desktop.engine.resources import sample_photo

RUNS = 5


def make_24mp_jpeg() -> bytes:
    # a real photo scaled up plus noise, so the JPEG has camera-like entropy
    base = Image.open(sample_photo()).convert("RGB").resize((6000, 4000), Image.BICUBIC)
    noise = np.random.default_rng(0).normal(0, 6, (4000, 6000, 1))
    arr = np.clip(np.asarray(base, np.float32) + noise, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(arr).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def full_decode(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as im:
        im.convert("RGB").thumbnail((1024, 1024), Image.LANCZOS)


def main() -> None:
    data = make_24mp_jpeg()
    emit(
        "intake_24mp_jpeg_to_1024px",
        {
            "file_mb": round(len(data) / 1e6, 1),
            "photoflux_load_photo": summary_ms(
                time_runs(lambda: load_photo(data, max_side=1024), RUNS)
            ),
            "naive_full_decode_then_resize": summary_ms(time_runs(lambda: full_decode(data), 3)),
        },
    )


if __name__ == "__main__":
    main()
