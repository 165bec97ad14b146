"""Make the style signatures the style-consistency check compares renders with.

Instant looks (every preset's OpenCV look; for "ai" presets it is their stand-in):
    python scripts/make_style_signatures.py
renders each preset's instant look of the reference photos (the bundled sample and the
test photos, each whole and in three crops, each as rendered and as written to a file:
watermarked and JPEG-encoded) and writes
photoflux_desktop/engine/checks/style_signatures.json.

Diffusion renders, only from real renders made with a real model:
    python scripts/make_style_signatures.py --renders DIR --style anime --model sdxl-turbo
measures every image in DIR (at least MIN_RENDERS, of different photos) and adds the
signature of that style as drawn by a diffusion model. Nothing is ever made up: a style
without such a folder has no diffusion signature and its check says "skipped".

Prints one JSON object: per style, how far its own held-out renders, the plain photos and
the nearest other style's renders are from its signature (how well the check separates).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from photoflux_desktop.engine.checks import quality, style  # noqa: E402
from photoflux_desktop.engine.checks.faces import face_detector  # noqa: E402
from photoflux_desktop.engine.checks.likeness import measure_likeness  # noqa: E402
from photoflux_desktop.engine.checks.style_features import FEATURES, style_features  # noqa: E402
from photoflux_desktop.engine.instant_styles import apply_instant_style  # noqa: E402
from photoflux_desktop.engine.presets import bundled_presets  # noqa: E402
from photoflux_desktop.engine.resources import sample_photo  # noqa: E402
from photoflux_desktop.engine.watermark import embed_invisible  # noqa: E402

DEFAULT_PHOTOS = [
    sample_photo(),
    ROOT / "tests/data/astronaut.png",
    ROOT / "tests/data/chelsea.jpg",
    ROOT / "tests/data/rocket.jpg",
]
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff"}
MIN_RENDERS = 8


def crops(image: Image.Image) -> list[Image.Image]:
    """The photo whole and three crops, so a signature sees varied framing."""
    w, h = image.size
    return [
        image,
        image.crop((0, 0, int(w * 0.7), int(h * 0.7))),
        image.crop((int(w * 0.3), int(h * 0.3), w, h)),
        image.crop((int(w * 0.15), 0, int(w * 0.85), h)),
    ]


def as_written(image: Image.Image) -> Image.Image:
    """The render as a file holds it: invisible watermark, then JPEG at the default
    quality, so `photoflux check` on written files measures what the signature saw."""
    marked, _ = embed_invisible(image)
    buffer = io.BytesIO()
    marked.save(buffer, "JPEG", quality=92)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("RGB")


def instant_samples(
    photos: list[Path],
) -> tuple[dict[str, list[style.Sample]], dict[str, dict]]:
    """Per style: the features of its reference renders, and what the quality checks see
    in them (the style's expectations, style_expect.py)."""
    presets = bundled_presets()
    by_style: dict[str, list[style.Sample]] = {pid: [] for pid in presets}
    seen: dict[str, dict[str, list]] = {
        pid: {"clipped": [], "mean": [], "face": [], "likeness": []} for pid in presets
    }
    detector = face_detector()
    for path in photos:
        with Image.open(path) as opened:
            photo = opened.convert("RGB")
        for seed, crop in enumerate(crops(photo)):
            has_face = detector is not None and detector.count(crop) > 0
            for pid, preset in presets.items():
                if preset.instant is None:
                    continue
                look = apply_instant_style(crop, preset.instant.style, preset.instant.amount, seed)
                written = as_written(look)
                by_style[pid].append((path.name, style_features(look)))
                by_style[pid].append((path.name, style_features(written)))
                for image in (look, written):
                    grey = quality._grey(image)
                    seen[pid]["clipped"].append(quality._clipped(grey))
                    seen[pid]["mean"].append(float(grey.mean()))
                if has_face:
                    seen[pid]["face"].append(detector.count(look) > 0)
                    measure = measure_likeness(look, crop)
                    if measure is not None and measure.score is not None:
                        seen[pid]["likeness"].append(measure.score)
    kept = {pid: samples for pid, samples in by_style.items() if samples}
    return kept, {pid: _expectations(seen[pid]) for pid in kept}


def _expectations(seen: dict[str, list]) -> dict:
    faces, scores = seen["face"], seen["likeness"]
    return {
        "likeness_min": round(min(scores), 3) if scores else None,
        "clipped_max": round(max(seen["clipped"]), 4),
        "mean_range": [round(min(seen["mean"]), 1), round(max(seen["mean"]), 1)],
        "face_kept_rate": round(sum(faces) / len(faces), 3) if faces else None,
    }


def make_instant(photos: list[Path], out: Path) -> dict:
    by_style, expectations = instant_samples(photos)
    weights, within = style.feature_weights(by_style)
    data = _load(out)
    data.update(
        {
            "schema_version": 1,
            "features": list(FEATURES),
            "weights": [round(float(w), 5) for w in weights],
            "within": [round(float(w), 5) for w in within],
            "made_with": "scripts/make_style_signatures.py (instant looks of "
            + ", ".join(p.name for p in photos)
            + ")",
        }
    )
    styles = data.setdefault("styles", {})
    for pid, samples in by_style.items():
        signature = style.build_signature(samples, weights, within)
        signature["expect"] = expectations[pid]
        styles.setdefault(pid, {})["instant"] = signature
    _save(data, out)
    return separation(by_style, photos, data)


def separation(by_style: dict[str, list[style.Sample]], photos: list[Path], data: dict) -> dict:
    """Per style: distances of its own renders, of plain photos and of other styles."""
    weights = np.asarray(data["weights"])
    plain = []
    for path in photos:
        with Image.open(path) as opened:
            plain.append(style_features(opened.convert("RGB")))
    report = {}
    for pid in by_style:
        signature = data["styles"][pid]["instant"]
        others = {
            other: min(style.distance(f, signature, weights) for _, f in rest)
            for other, rest in by_style.items()
            if other != pid
        }
        nearest = min(others, key=others.__getitem__)
        report[pid] = {
            "threshold": signature["threshold"],
            "own_held_out_max": signature["held_out_max"],
            "plain_photo_min": round(min(style.distance(f, signature, weights) for f in plain), 2),
            "plain_photos_flagged": sum(
                style.distance(f, signature, weights) > signature["threshold"] for f in plain
            ),
            "nearest_other_style": nearest,
            "nearest_other_min": round(others[nearest], 2),
            "other_styles_renders_flagged": round(
                float(
                    np.mean(
                        [
                            style.distance(f, signature, weights) > signature["threshold"]
                            for other, rest in by_style.items()
                            if other != pid
                            for _, f in rest
                        ]
                    )
                ),
                3,
            ),
        }
    return report


def make_diffusion(renders: Path, style_id: str, model: str, out: Path) -> dict:
    if style_id not in bundled_presets():
        raise SystemExit(f"Unknown style '{style_id}'.")
    data = _load(out)
    if "weights" not in data:
        raise SystemExit(f"{out} has no instant signatures yet: run without --renders first.")
    files = sorted(p for p in renders.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if len(files) < MIN_RENDERS:
        raise SystemExit(
            f"{renders} holds {len(files)} images; a signature needs at least {MIN_RENDERS} "
            "real renders of this style (of different photos)."
        )
    samples = []
    for path in files:
        with Image.open(path) as opened:
            samples.append((path.name, style_features(opened.convert("RGB"))))
    signature = style.build_signature(
        samples, np.asarray(data["weights"]), np.asarray(data["within"])
    )
    signature["model"] = model
    data["styles"].setdefault(style_id, {})["diffusion"] = signature
    _save(data, out)
    return {style_id: {"diffusion": {k: signature[k] for k in ("threshold", "renders", "model")}}}


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"styles": {}}


def _save(data: dict, path: Path) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", nargs="*", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--renders", type=Path, help="folder of real renders of one style")
    parser.add_argument("--style", help="the style the --renders folder shows")
    parser.add_argument("--model", default="unknown", help="the model that made --renders")
    parser.add_argument("--out", type=Path, default=style.signatures_path())
    args = parser.parse_args()
    if args.renders:
        if not args.style:
            parser.error("--renders needs --style")
        report = make_diffusion(args.renders, args.style, args.model, args.out)
    else:
        report = make_instant(args.photos, args.out)
    print(json.dumps({"signatures": str(args.out), "separation": report}, indent=1))


if __name__ == "__main__":
    main()
