"""Style consistency: is a render near its style's reference signature?

A signature (style_signatures.json beside this module, package data, made by
scripts/make_style_signatures.py) holds, per style and renderer ("instant" or
"diffusion"), the mean and spread of the palette/texture statistics of that style's
reference renders (style_features.py) and a distance threshold calibrated on those
renders (each photo's renders against a signature made without that photo). The distance
of a new render is a weighted RMS of its z-scores (weights: how well each statistic tells
the styles apart) with the palette histogram's distance as one more term.

Signatures for diffusion renders exist only where real reference renders made with a real
model were measured; without one the check is skipped and says so, it never guesses.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from photoflux_desktop.engine.checks import CheckResult
from photoflux_desktop.engine.checks.style_features import FEATURES, hellinger, style_features
from photoflux_desktop.engine.presets import bundled_presets

NAME = "style_consistency"
SIGNATURES_FILE = "style_signatures.json"
HIST_WEIGHT = 0.1  # the palette histogram's share of the squared distance
SPREAD_FLOOR = 1.0  # a style's spread is at least this many pooled within-style spreads
THRESHOLD_MARGIN = 1.25  # the threshold is this much above the worst held-out reference
THRESHOLD_MIN = 1.5
HIST_SPREAD_MIN = 0.03


def signatures_path() -> Path:
    return Path(__file__).with_name(SIGNATURES_FILE)


@cache
def load_signatures(path: Path | None = None) -> dict[str, Any]:
    """The signatures file as plain data; an empty set when it is missing."""
    target = path or signatures_path()
    if not target.is_file():
        return {"styles": {}}
    data = json.loads(target.read_text(encoding="utf-8"))
    if list(data.get("features", [])) != list(FEATURES):
        # made by an older feature set: comparing would be meaningless
        return {"styles": {}, "stale": True}
    return data


def signature_for(
    style_id: str, backend: str, signatures: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    data = signatures if signatures is not None else load_signatures()
    return data.get("styles", {}).get(style_id, {}).get(_renderer(backend))


def _renderer(backend: str) -> str:
    return "instant" if backend == "instant" else "diffusion"


def distance(
    features: tuple[np.ndarray, np.ndarray], signature: dict[str, Any], weights: np.ndarray
) -> float:
    """How far one image's statistics are from a signature (0: its mean; ~1: typical)."""
    scalars, hist = features
    z = (scalars - np.asarray(signature["mean"])) / np.asarray(signature["scale"])
    scalar_part = float(np.sum(weights * z * z))
    hist_far = hellinger(hist, np.asarray(signature["hist_mean"])) - signature["hist_distance"]
    hist_z = max(0.0, hist_far / signature["hist_scale"])
    return float(np.sqrt(scalar_part * (1 - HIST_WEIGHT) + HIST_WEIGHT * hist_z * hist_z))


def check_style_consistency(
    image: Image.Image,
    style_id: str | None,
    backend: str,
    signatures: dict[str, Any] | None = None,
    strength: float | None = None,
) -> CheckResult:
    """Distance of `image` from the signature of `style_id` as drawn by `backend`;
    `strength` (the render's) explains a flag on a deliberately weakened instant look."""
    if not style_id:
        return _skipped("the image does not say which style made it.")
    data = signatures if signatures is not None else load_signatures()
    signature = signature_for(style_id, backend, data)
    if signature is None:
        if _renderer(backend) == "diffusion":
            return _skipped(
                f"the style '{style_id}' has no reference renders from a diffusion model yet, "
                "so there is nothing to compare with."
            )
        return _skipped(f"the style '{style_id}' has no reference signature.")
    value = distance(style_features(image), signature, np.asarray(data["weights"]))
    threshold = float(signature["threshold"])
    if value <= threshold:
        reason = f"Looks like the style's reference renders (distance {value:.2f})."
    else:
        reason = (
            f"Does not look like the style's reference renders: palette and texture are "
            f"{value:.1f} away, where renders of this style stay under {threshold:.1f}."
        )
        reason += _weaker_note(style_id, backend, strength)
    return CheckResult(NAME, value <= threshold, value, threshold, reason)


def _weaker_note(style_id: str, backend: str, strength: float | None) -> str:
    if backend != "instant" or strength is None:
        return ""
    preset = bundled_presets().get(style_id)
    reference = preset.instant.amount if preset and preset.instant else None
    if reference is None or strength >= reference - 0.05:
        return ""
    return (
        f" It was rendered at strength {strength:.2f}, weaker than the reference renders "
        f"({reference:.2f}), which keeps more of the photo."
    )


def _skipped(why: str) -> CheckResult:
    return CheckResult(NAME, True, None, None, f"Skipped: {why}", skipped=True)


# --- building signatures (scripts/make_style_signatures.py) -----------------------------

Sample = tuple[str, tuple[np.ndarray, np.ndarray]]  # (photo it came from, features)


def feature_weights(by_style: dict[str, list[Sample]]) -> tuple[np.ndarray, np.ndarray]:
    """(weights, pooled within-style spread): a statistic weighs by how far apart the
    styles' means are relative to its spread within a style (Fisher's ratio)."""
    groups = [np.array([f[0] for _, f in samples]) for samples in by_style.values()]
    within = np.sqrt(np.mean([g.var(axis=0) for g in groups], axis=0))
    within = np.maximum(within, 1e-3)
    between = np.array([g.mean(axis=0) for g in groups]).var(axis=0)
    fisher = between / (within * within)
    return fisher / fisher.sum(), within


def build_signature(samples: list[Sample], weights: np.ndarray, within: np.ndarray) -> dict:
    """A signature from one style's reference renders, with its calibrated threshold."""
    signature = _fit(samples, within)
    photos = sorted({photo for photo, _ in samples})
    held_out: list[float] = []
    if len(photos) > 1:  # each photo's renders against a signature made without that photo
        for photo in photos:
            rest = _fit([s for s in samples if s[0] != photo], within)
            held_out += [distance(f, rest, weights) for p, f in samples if p == photo]
    else:
        held_out = [distance(f, signature, weights) for _, f in samples]
    worst = max(held_out)
    return {
        **signature,
        "threshold": round(max(THRESHOLD_MIN, worst * THRESHOLD_MARGIN), 3),
        "held_out_max": round(worst, 3),
        "held_out_mean": round(float(np.mean(held_out)), 3),
        "renders": len(samples),
        "photos": photos,
    }


def _fit(samples: list[Sample], within: np.ndarray) -> dict[str, Any]:
    scalars = np.array([f[0] for _, f in samples])
    hists = np.array([f[1] for _, f in samples])
    hist_mean = hists.mean(axis=0)
    hist_d = np.array([hellinger(h, hist_mean) for h in hists])
    return {
        "mean": _rounded(scalars.mean(axis=0)),
        "scale": _rounded(np.maximum(scalars.std(axis=0), SPREAD_FLOOR * within)),
        "hist_mean": _rounded(hist_mean),
        "hist_distance": round(float(hist_d.mean()), 5),
        "hist_scale": round(max(float(hist_d.std()), HIST_SPREAD_MIN), 5),
    }


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), 5) for v in values]
