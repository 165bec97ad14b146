"""Instant styles at 1024 px on this machine: median of several runs per look, and which
look each preset uses (every preset has its own; `cartoon` is kept for old library entries)."""

from __future__ import annotations

from PIL import Image

from bench._util import emit, summary_ms, time_runs
from photoflux_desktop.engine.instant_styles import INSTANT_STYLES, apply_instant_style
from photoflux_desktop.engine.presets import bundled_presets
from photoflux_desktop.engine.resources import sample_photo

RUNS = 7


def main() -> None:
    image = Image.open(sample_photo()).convert("RGB").resize((1024, 1024), Image.LANCZOS)
    results = {
        style_id: summary_ms(time_runs(lambda s=style_id: apply_instant_style(image, s), RUNS))
        for style_id in INSTANT_STYLES
    }
    slowest = max(results.values(), key=lambda r: r["median_ms"])["median_ms"]
    looks = {p.id: p.instant.style for p in bundled_presets().values() if p.instant}
    emit(
        "instant_styles_1024px",
        {"styles": results, "slowest_median_ms": slowest, "preset_looks": looks},
    )


if __name__ == "__main__":
    main()
