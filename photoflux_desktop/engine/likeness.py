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
from photoflux_desktop.engine.request import (
    LIKENESS_STRENGTH_RANGE,
    Likeness,
    RenderParameters,
    RenderRequest,
)

DEPTH_ESTIMATOR = "depth-anything-v2-small"
# ControlNet Union's mode index for each structure mode (xinsir's numbering)
UNION_MODES = {Likeness.DEPTH: 1, Likeness.CANNY: 3, Likeness.BOTH: 3}
LIKENESS_MAX_SCALE = LIKENESS_STRENGTH_RANGE[1]


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
    # both: the ControlNet a little lighter, as the face adapter holds the identity too
    ("sd", Likeness.BOTH): LikenessDefaults(0.7, 0.0, 0.9, 0.7),
    ("sdxl", Likeness.CANNY): LikenessDefaults(0.6, 0.0, 0.9, 0.7),
    ("sdxl", Likeness.DEPTH): LikenessDefaults(0.6, 0.0, 0.9, 0.7),
    ("sdxl", Likeness.FACE): LikenessDefaults(0.5, 0.0, 1.0, 0.65),
    ("sdxl", Likeness.BOTH): LikenessDefaults(0.5, 0.0, 0.9, 0.7),
}
_STRUCTURE_ADDON = {
    ("sd", Likeness.CANNY): "controlnet-canny-sd21",
    ("sd", Likeness.DEPTH): "controlnet-depth-sd21",
    ("sdxl", Likeness.CANNY): "controlnet-union-sdxl",
    ("sdxl", Likeness.DEPTH): "controlnet-union-sdxl",
    ("sd", Likeness.BOTH): "controlnet-canny-sd21",
    ("sdxl", Likeness.BOTH): "controlnet-union-sdxl",
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
    face: LikenessPlan | None = None  # "both": the IP-Adapter that runs beside the ControlNet

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

    @property
    def face_plan(self) -> LikenessPlan | None:
        """The IP-Adapter part of this plan ("face", or the face half of "both")."""
        return self if self.kind == "ip-adapter" else self.face

    def to_dict(self) -> dict[str, Any]:
        data = {
            "mode": self.mode.value,
            "addon": self.addon_id,
            "scale": self.scale,
            "control_start": self.control_start,
            "control_end": self.control_end,
        }
        if self.face is not None:
            data.update(face_addon=self.face.addon_id, face_scale=self.face.scale)
        return data


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
    face = None
    if mode is Likeness.BOTH:  # the same weight binds both halves
        face = plan_likeness(Likeness.FACE, family, model_label, likeness_strength, root)
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
        face=face,
    )


# --min-likeness: how each further try binds harder (at most MAX_TRIES renders in all)
MAX_TRIES = 3
SCALE_GAIN = 1.35  # the conditioning / IP-Adapter scale grows by this much a try
STRENGTH_STEP = 0.15  # and img2img strength drops by this much (closer to the photo)
MIN_STRENGTH = 0.2  # below this the style hardly shows
DEFAULT_STRENGTH = 0.6  # assumed when a result does not say what it ran with


def structure_mode_installed(family: str | None, root: Path | None = None) -> Likeness | None:
    """The structure mode (canny) when its add-on is installed for `family`, else None."""
    addon_id = _STRUCTURE_ADDON.get((family or "", Likeness.CANNY))
    if addon_id is None or find_addon(addon_id, root) is None:
        return None
    return Likeness.CANNY


def stronger_likeness(
    request: RenderRequest,
    ran: RenderParameters,
    family: str | None,
    root: Path | None = None,
) -> RenderRequest | None:
    """The request for the next --min-likeness try after one that ran with `ran`
    (its RenderParameters), or None when nothing can bind harder.

    With a likeness mode: a higher scale and a lower img2img strength. Without one:
    the structure mode when its add-on is installed (at the family's defaults), else
    only a lower strength. The seed stays, so only the conditioning changes.
    """
    from dataclasses import replace

    strength = ran.strength if ran.strength is not None else request.strength
    strength = DEFAULT_STRENGTH if strength is None else float(strength)
    lower = round(max(MIN_STRENGTH, strength - STRENGTH_STEP), 3)
    seed = ran.seed if ran.seed is not None else request.seed
    if request.likeness is not Likeness.NONE:
        scale = ran.likeness_scale or request.likeness_strength
        if scale is None and family is not None and (family, request.likeness) in DEFAULTS:
            scale = DEFAULTS[(family, request.likeness)].scale
        higher = round(min(LIKENESS_MAX_SCALE, float(scale or 1.0) * SCALE_GAIN), 3)
        if higher == scale and lower == strength:
            return None
        return replace(request, likeness_strength=higher, strength=lower, seed=seed)
    # w8a8 renders only on OpenVINO, which takes no likeness control: lower strength only
    openvino_only = request.quantize.value == "w8a8"
    structure = None if openvino_only else structure_mode_installed(family, root)
    if structure is not None:
        return replace(request, likeness=structure, seed=seed)
    if lower >= strength:
        return None
    return replace(request, strength=lower, seed=seed)
