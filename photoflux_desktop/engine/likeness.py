"""Likeness control: which add-ons and settings a `--likeness` mode uses per family.

Torch-free planning, done before any model loads: the mode is refused early when the
family has no likeness control (FLUX.1 [schnell]) or an add-on is not installed, with
the download that fixes it. The diffusion side (diffusion/likeness_pipes.py) turns a
`LikenessPlan` into a ControlNet or IP-Adapter pipeline.

Modes: "canny" and "depth" keep the photo's structure (ControlNet on OpenCV edges or an
estimated depth map); "face" keeps the face (IP-Adapter plus-face, CLIP image features).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from photoflux_desktop.engine.catalog import ADDONS, download_hint
from photoflux_desktop.engine.errors import bad_input, model_missing
from photoflux_desktop.engine.model_store import find_addon
from photoflux_desktop.engine.request import Likeness

DEPTH_ESTIMATOR = "depth-anything-v2-small"
# ControlNet Union's mode index for each structure mode (xinsir's numbering)
UNION_MODES = {Likeness.DEPTH: 1, Likeness.CANNY: 3}


@dataclass(frozen=True)
class LikenessDefaults:
    scale: float  # controlnet_conditioning_scale or the IP-Adapter scale
    control_start: float  # share of the denoising steps before ControlNet applies
    control_end: float  # ... and after which it stops (leaves the finish to the style)
    strength: float  # img2img strength when the user gave none: conditioning holds the
    # likeness, so the style may move further from the photo than plain img2img


# per family and mode; SDXL follows the conditioning more readily, so a lighter scale
DEFAULTS: dict[tuple[str, Likeness], LikenessDefaults] = {
    ("sd", Likeness.CANNY): LikenessDefaults(0.8, 0.0, 0.9, 0.7),
    ("sd", Likeness.DEPTH): LikenessDefaults(0.8, 0.0, 0.9, 0.7),
    ("sd", Likeness.FACE): LikenessDefaults(0.6, 0.0, 1.0, 0.65),
    ("sdxl", Likeness.CANNY): LikenessDefaults(0.6, 0.0, 0.9, 0.7),
    ("sdxl", Likeness.DEPTH): LikenessDefaults(0.6, 0.0, 0.9, 0.7),
    ("sdxl", Likeness.FACE): LikenessDefaults(0.5, 0.0, 1.0, 0.65),
}
_STRUCTURE_ADDON = {
    ("sd", Likeness.CANNY): "controlnet-canny-sd21",
    ("sd", Likeness.DEPTH): "controlnet-depth-sd21",
    ("sdxl", Likeness.CANNY): "controlnet-union-sdxl",
    ("sdxl", Likeness.DEPTH): "controlnet-union-sdxl",
}
_FACE_ADDON = {"sd": "ip-adapter-plus-face-sd15", "sdxl": "ip-adapter-plus-face-sdxl"}


@dataclass(frozen=True)
class LikenessPlan:
    mode: Likeness
    family: str
    addon_id: str  # the ControlNet or IP-Adapter entry
    addon_path: Path
    scale: float
    control_start: float
    control_end: float
    strength: float
    depth_path: Path | None = None  # the depth estimator, for "depth"

    @property
    def kind(self) -> str:
        return ADDONS[self.addon_id].kind

    @property
    def union_mode(self) -> int | None:
        return UNION_MODES[self.mode] if self.kind == "controlnet-union" else None

    def control_range(self, denoising_steps: int) -> tuple[float, float]:
        """The range diffusers gets: a step counts while (i + 1) / n <= end, so with
        few steps (turbo models run 1-2) a fractional end could drop every step."""
        end = self.control_end
        if int(denoising_steps * end) < 1:
            end = 1.0
        return self.control_start, end

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode.value,
            "addon": self.addon_id,
            "scale": self.scale,
            "control_start": self.control_start,
            "control_end": self.control_end,
        }


def plan_likeness(
    mode: Likeness,
    family: str,
    model_label: str,
    likeness_strength: float | None = None,
    root: Path | None = None,
) -> LikenessPlan | None:
    """The plan for `mode` on a `family` model, or None for "none"; a clear error when
    the family has no likeness control or an add-on is missing."""
    if mode is Likeness.NONE:
        return None
    if family == "flux":
        raise bad_input(
            f"--likeness {mode.value} is not available for FLUX.1 models ({model_label}): "
            "no ControlNet or IP-Adapter made for FLUX.1 [schnell] is supported yet.",
            "Keep the person's likeness with a personal LoRA trained on their photos "
            "(--lora), or use an SD / SDXL model for --likeness.",
        )
    defaults = DEFAULTS[(family, mode)]
    addon_id = _FACE_ADDON[family] if mode is Likeness.FACE else _STRUCTURE_ADDON[(family, mode)]
    addon_path = find_addon(addon_id, root)
    if addon_path is None:
        addon = ADDONS[addon_id]
        raise model_missing(
            f"--likeness {mode.value} on {family.upper()} needs {addon.name}, which is not "
            "installed.",
            download_hint(addon_id),
            model=addon_id,
        )
    depth_path = None
    if mode is Likeness.DEPTH:
        depth_path = find_addon(DEPTH_ESTIMATOR, root)
        if depth_path is None:
            raise model_missing(
                "--likeness depth needs a depth estimator, and none is installed.",
                download_hint(DEPTH_ESTIMATOR) + " Or use --likeness canny, which needs none.",
                model=DEPTH_ESTIMATOR,
            )
    scale = likeness_strength if likeness_strength is not None else defaults.scale
    return LikenessPlan(
        mode=mode,
        family=family,
        addon_id=addon_id,
        addon_path=addon_path,
        scale=scale,
        control_start=defaults.control_start,
        control_end=defaults.control_end,
        strength=defaults.strength,
        depth_path=depth_path,
    )
