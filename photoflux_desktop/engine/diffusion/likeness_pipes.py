"""Likeness control on diffusers' own pipelines: ControlNet img2img and IP-Adapter.

A `LikenessPlan` (engine/likeness.py) picks the add-on; here it becomes the pipeline
class and extra components to load, and the extra arguments of each call (the control
image from OpenCV edges or a depth estimator, or the photo for the IP-Adapter).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from photoflux_desktop.engine.checks.faces import face_crop
from photoflux_desktop.engine.errors import bad_input, model_missing
from photoflux_desktop.engine.likeness import LikenessPlan
from photoflux_desktop.engine.request import Likeness

CONTROLNET_PIPELINES = {
    ("sd", "controlnet"): "StableDiffusionControlNetImg2ImgPipeline",
    ("sdxl", "controlnet"): "StableDiffusionXLControlNetImg2ImgPipeline",
    ("sdxl", "controlnet-union"): "StableDiffusionXLControlNetUnionImg2ImgPipeline",
}
CONTROLNET_MODELS = {"controlnet": "ControlNetModel", "controlnet-union": "ControlNetUnionModel"}
CANNY_THRESHOLDS = (100, 200)  # OpenCV's usual pair for photos at 512-1024 px

_depth_estimators: dict[str, Any] = {}
_depth_lock = threading.Lock()


def pipeline_class(plan: LikenessPlan | None, default: str) -> str:
    if plan is None or plan.kind == "ip-adapter":
        return default  # the IP-Adapter loads into the family's own img2img pipeline
    return CONTROLNET_PIPELINES[(plan.family, plan.kind)]


def extra_components(plan: LikenessPlan | None, dtype: Any) -> dict[str, Any]:
    """Components `from_pretrained` needs beyond the model folder (the ControlNet)."""
    if plan is None or plan.kind not in CONTROLNET_MODELS:
        return {}
    import diffusers

    from photoflux_desktop.engine.catalog import download_hint
    from photoflux_desktop.engine.diffusion.memory import is_oom, is_transient

    cls = getattr(diffusers, CONTROLNET_MODELS[plan.kind])
    try:
        controlnet = cls.from_pretrained(str(plan.addon_path), torch_dtype=dtype)
    except Exception as exc:
        if is_oom(exc) or is_transient(exc):
            raise  # the renderer's recovery handles these
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise model_missing(
            f"The likeness add-on at {plan.addon_path} could not be loaded: {reason}",
            "It may be incomplete. " + download_hint(plan.addon_id),
            model=plan.addon_id,
        ) from exc
    return {"controlnet": controlnet}


def attach_ip_adapter(pipe: Any, plan: LikenessPlan | None, model_label: str) -> None:
    """Load the IP-Adapter (and its CLIP image encoder) into a freshly loaded pipeline
    (for "both", into the ControlNet pipeline: diffusers' IP-Adapter mixin is on it too)."""
    plan = plan.face_plan if plan is not None else None
    if plan is None:
        return
    from photoflux_desktop.engine.catalog import ADDONS

    addon = ADDONS[plan.addon_id]
    weight = Path(addon.weight_name or "")
    try:
        pipe.load_ip_adapter(
            str(plan.addon_path),
            subfolder=weight.parent.as_posix() if weight.parent != Path(".") else "",
            weight_name=weight.name,
            image_encoder_folder=addon.image_encoder,
            local_files_only=True,
        )
    except (RuntimeError, ValueError, KeyError) as exc:  # shapes that do not match
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise bad_input(
            f"{addon.name} does not fit {model_label}: {reason}",
            f"{addon.notes} Use --likeness canny, or a model that fits it.".strip(),
        ) from exc


def canny_edges(image: Image.Image) -> Image.Image:
    import cv2

    grey = cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(grey, *CANNY_THRESHOLDS)
    return Image.fromarray(np.stack([edges] * 3, axis=-1))


def depth_map(image: Image.Image, estimator_folder: Path) -> Image.Image:
    """A depth map from the installed estimator (loaded once per process, on the CPU:
    a small estimator takes well under a second and keeps GPU memory for the render)."""
    key = str(estimator_folder)
    with _depth_lock:
        estimator = _depth_estimators.get(key)
        if estimator is None:
            from transformers import pipeline

            estimator = pipeline("depth-estimation", model=key, device="cpu")
            _depth_estimators[key] = estimator
        depth = estimator(image.convert("RGB"))["depth"]
    return depth.convert("RGB").resize(image.size, Image.Resampling.BILINEAR)


def control_image(plan: LikenessPlan, image: Image.Image) -> Image.Image:
    if plan.mode is Likeness.DEPTH and plan.depth_path is not None:
        return depth_map(image, plan.depth_path)  # plan_likeness refuses depth without one
    return canny_edges(image)


def likeness_call_kwargs(
    pipe: Any, plan: LikenessPlan | None, image: Image.Image, denoising_steps: int
) -> dict[str, Any]:
    """The extra pipeline arguments for this render; `image` is at the render size."""
    if plan is None:
        return {}
    face: dict[str, Any] = {}
    if plan.face_plan is not None:
        pipe.set_ip_adapter_scale(plan.face_plan.scale)
        face = {"ip_adapter_image": face_crop(image)}
    if plan.kind == "ip-adapter":
        return face
    start, end = plan.control_range(denoising_steps)
    condition = control_image(plan, image)
    kwargs: dict[str, Any] = {
        "control_image": condition,
        "controlnet_conditioning_scale": plan.scale,
        "control_guidance_start": start,
        "control_guidance_end": end,
    }
    if plan.union_mode is not None:
        kwargs.update(control_image=[condition], control_mode=[plan.union_mode])
    return {**kwargs, **face}
