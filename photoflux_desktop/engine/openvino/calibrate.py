"""Calibration inputs for 8-bit activations (`--quantize w8a8`).

Static int8 quantization needs each activation's range, measured on inputs like the real
ones. The model's own torch pipeline renders a few bundled pictures (the sample portrait
and two style thumbnails, with those styles' prompts) at a small size, before its parts
are exported, and hooks record what its UNet, VAE encoder and VAE decoder are given, in
the exported parts' input order. Nothing is downloaded; the ranges barely depend on size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from photoflux_desktop.engine.request import CancelToken

Samples = dict[str, list[list[np.ndarray]]]
# (picture under resources/, style whose prompt it gets, img2img strength): 0.75 gives
# three UNet calls from early to late timesteps. Not 1.0 (pure noise, as text-to-image
# starts): its wider ranges tripled the tiny model's img2img error (3.6 -> 11.5 of 255)
PICTURES = (
    ("samples/portrait.jpg", "watercolor", 0.75),
    ("thumbnails/oil-painting.jpg", "oil-painting", 0.75),
    ("thumbnails/cyberpunk.jpg", "cyberpunk", 0.75),
)
STEPS = 4
CALIBRATION_SIDE = 256
CALIBRATION_VERSION = 1  # part of the export key: a new recipe re-exports w8a8 models


class CalibrationCancelled(Exception):
    """Cancel seen between calibration renders."""


def flat_unet_inputs(
    sample: Any,
    timestep: Any,
    hidden: Any,
    *,
    sdxl: bool,
    added: dict[str, Any] | None,
    timestep_cond: Any,
) -> list[Any]:
    """The exported UNet's inputs, in order, from diffusers' call arguments."""
    import torch

    inputs = [sample, torch.as_tensor(timestep, dtype=torch.float32).reshape(1), hidden]
    if sdxl:
        added = added or {}
        inputs += [added["text_embeds"], added["time_ids"]]
    if timestep_cond is not None:
        inputs.append(timestep_cond)
    return inputs


def as_array(value: Any) -> np.ndarray:
    return np.ascontiguousarray(value.detach().cpu().float().numpy(), dtype=np.float32)


def calibration_side(native: int | None, multiple: int) -> int:
    """A small render size the model accepts (its native size when that is smaller)."""
    side = min(CALIBRATION_SIDE, native or CALIBRATION_SIDE)
    return max(multiple, side // multiple * multiple)


def collect_samples(
    pipe: Any, side: int, cancel: CancelToken, say: Callable[[str], None]
) -> Samples:
    """Render the calibration pictures with `pipe` (torch) and return each part's inputs."""
    import torch
    from PIL import Image

    from photoflux_desktop.engine.presets import get_preset
    from photoflux_desktop.engine.resources import resources_dir

    samples: Samples = {"unet": [], "vae_encoder": [], "vae_decoder": []}
    sdxl = hasattr(pipe, "text_encoder_2")

    def on_unet(_module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        sample, timestep = args[0], args[1] if len(args) > 1 else kwargs["timestep"]
        hidden = args[2] if len(args) > 2 else kwargs["encoder_hidden_states"]
        flat = flat_unet_inputs(
            sample,
            timestep,
            hidden,
            sdxl=sdxl,
            added=kwargs.get("added_cond_kwargs"),
            timestep_cond=kwargs.get("timestep_cond"),
        )
        samples["unet"].append([as_array(value) for value in flat])

    hooks = [
        pipe.unet.register_forward_pre_hook(on_unet, with_kwargs=True),
        pipe.vae.encoder.register_forward_pre_hook(
            lambda _m, args: samples["vae_encoder"].append([as_array(args[0])])
        ),
        pipe.vae.decoder.register_forward_pre_hook(
            lambda _m, args: samples["vae_decoder"].append([as_array(args[0])])
        ),
    ]

    def between_steps(*_args: Any) -> dict[str, Any]:
        if cancel.cancelled:  # within one step, as a render is
            raise CalibrationCancelled
        return {}

    try:
        for number, (picture, style, strength) in enumerate(PICTURES, start=1):
            say(f"Measuring 8-bit ranges on sample picture {number} of {len(PICTURES)}…")
            if cancel.cancelled:  # also when cancelled on seeing that message
                raise CalibrationCancelled
            photo = Image.open(resources_dir() / picture).convert("RGB").resize((side, side))
            with torch.no_grad():
                pipe(
                    prompt=get_preset(style).render_prompt(None),
                    image=photo,
                    strength=strength,
                    num_inference_steps=STEPS,
                    guidance_scale=0.0,
                    generator=torch.Generator("cpu").manual_seed(number),
                    output_type="pil",
                    callback_on_step_end=between_steps,
                )
    finally:
        for hook in hooks:
            hook.remove()
    return samples
