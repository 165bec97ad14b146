"""Final decode of latents with the model's VAE, per family."""

from __future__ import annotations

from typing import Any

import torch
from PIL import Image

from photoflux_desktop.engine.diffusion.memory import execution_device


def unpack_for_preview(pipe: Any, family: str, latents: torch.Tensor, params: Any) -> torch.Tensor:
    """(B, C, h, w) latents from whatever layout the pipeline keeps them in."""
    if family == "flux":
        return pipe._unpack_latents(latents, params.height, params.width, pipe.vae_scale_factor)
    return latents


def decode_latents(
    pipe: Any, family: str, latents: torch.Tensor, height: int, width: int
) -> Image.Image:
    vae = pipe.vae
    if family == "flux":
        latents = pipe._unpack_latents(latents, height, width, pipe.vae_scale_factor)
        latents = latents / vae.config.scaling_factor + vae.config.shift_factor
    else:
        latents = latents / vae.config.scaling_factor
    # the SDXL VAE overflows in fp16; diffusers upcasts it for decoding, so do we
    upcast = vae.dtype == torch.float16 and getattr(vae.config, "force_upcast", False)
    dtype = torch.float32 if upcast else vae.dtype
    if upcast:
        vae.to(torch.float32)
    try:
        with torch.inference_mode():
            # under offload the VAE's weights read cpu/meta: feed the device hooks run on
            device = execution_device(pipe, str(latents.device))
            sample = vae.decode(latents.to(device, dtype), return_dict=False)[0]
    finally:
        if upcast:
            vae.to(torch.float16)
    return pipe.image_processor.postprocess(sample, output_type="pil")[0]
