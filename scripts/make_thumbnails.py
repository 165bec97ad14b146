"""Regenerate resources/thumbnails/*.jpg: each preset's instant look on the sample portrait."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from photoflux_desktop.engine.instant_styles import apply_instant_style
from photoflux_desktop.engine.resources import resources_dir, sample_photo

SIZE = 192


def main() -> None:
    root = resources_dir()
    portrait = Image.open(sample_photo()).convert("RGB").resize((384, 384), Image.LANCZOS)
    out_dir = root / "thumbnails"
    out_dir.mkdir(exist_ok=True)
    for path in sorted((root / "presets").glob("*.json")):
        preset = json.loads(path.read_text())
        instant = preset["instant"]
        styled = apply_instant_style(portrait, instant["style"], instant["amount"], seed=7)
        thumb = styled.resize((SIZE, SIZE), Image.LANCZOS)
        thumb.save(out_dir / preset["thumbnail"], quality=82, optimize=True)
        print(Path(preset["thumbnail"]).name)


if __name__ == "__main__":
    main()
