"""Step previews: latents to a small RGB image, cheaply.

With a tiny autoencoder (TAESD / TAESDXL / TAEF1) installed, previews are real
decodes at a fraction of the VAE's cost; otherwise a fixed linear map from latent
channels to RGB gives a blurry but faithful impression of the image forming.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

MAX_PREVIEW_SIDE = 512

# latent channel -> RGB coefficients, per family (well-known calibration constants)
_RGB_FACTORS: dict[str, tuple[list[list[float]], list[float]]] = {
    "sd": (
        [
            [0.3512, 0.2297, 0.3227],
            [0.3250, 0.4974, 0.2350],
            [-0.2829, 0.1762, 0.2721],
            [-0.2120, -0.2616, -0.7177],
        ],
        [0.0, 0.0, 0.0],
    ),
    "sdxl": (
        [
            [0.3651, 0.4232, 0.4341],
            [-0.2533, -0.0042, 0.1068],
            [0.1076, 0.1111, -0.0362],
            [-0.3165, -0.2492, -0.2188],
        ],
        [0.1084, -0.0175, -0.0011],
    ),
    "flux": (
        [
            [-0.0346, 0.0244, 0.0681],
            [0.0034, 0.0210, 0.0687],
            [0.0275, -0.0668, -0.0433],
            [-0.0174, 0.0160, 0.0617],
            [0.0859, 0.0721, 0.0329],
            [0.0004, 0.0383, 0.0115],
            [0.0405, 0.0861, 0.0915],
            [-0.0236, -0.0185, -0.0259],
            [-0.0245, 0.0250, 0.1180],
            [0.1008, 0.0755, -0.0421],
            [-0.0515, 0.0201, 0.0011],
            [0.0428, -0.0012, -0.0036],
            [0.0817, 0.0765, 0.0749],
            [-0.1264, -0.0522, -0.1103],
            [-0.0280, -0.0881, -0.0499],
            [-0.1262, -0.0982, -0.0778],
        ],
        [-0.0329, -0.0718, -0.0851],
    ),
}


def _fit(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    width, height = size
    scale = min(1.0, MAX_PREVIEW_SIDE / max(width, height))
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(target, Image.Resampling.BILINEAR)


def project_latents(latents: torch.Tensor, family: str, size: tuple[int, int]) -> Image.Image:
    """Linear latent->RGB projection; `latents` is (B, C, h, w), first item is used."""
    x = latents[0].detach().float().cpu().permute(1, 2, 0)  # h, w, C
    channels = x.shape[-1]
    factors, bias = _RGB_FACTORS.get(family, (None, None))
    if factors is not None and len(factors) == channels:
        rgb = x @ torch.tensor(factors) + torch.tensor(bias)
        rgb = ((rgb + 1.0) / 2.0).clamp(0, 1)
    else:
        # an architecture we have no calibration for: stretch the first channels
        rgb = x[..., : min(3, channels)]
        if rgb.shape[-1] < 3:
            rgb = rgb[..., :1].expand(*rgb.shape[:-1], 3)
        low = rgb.amin(dim=(0, 1), keepdim=True)
        high = rgb.amax(dim=(0, 1), keepdim=True)
        rgb = (rgb - low) / (high - low).clamp(min=1e-6)
    array = (rgb.numpy() * 255).round().astype(np.uint8)
    return _fit(Image.fromarray(array, "RGB"), size)


def use_tiny_decoder(device: str) -> bool:
    """TAESD costs ~1.3 s per 512 px preview on a 2-core CPU (bench/preview_cost.py)
    against ~2 ms for the projection, so on CPU it is only used when asked for."""
    choice = os.environ.get("PHOTOFLUX_PREVIEW_DECODER", "auto").lower()
    if choice in ("tiny", "projection"):
        return choice == "tiny"
    return not device.startswith("cpu")


class PreviewDecoder:
    """Decodes step latents for previews: TAESD-family when given, else projection."""

    def __init__(self, family: str, taesd_folder: Path | None, device: str, dtype: torch.dtype):
        self.family = family
        self.tiny: Any = None
        self.kind = "projection"
        if torch.device(device).type == "meta":
            # offloaded weights read as `meta`: a module moved there has no data left
            raise ValueError("previews need a real device, not 'meta'")
        if taesd_folder is not None and use_tiny_decoder(device):
            from diffusers import AutoencoderTiny

            self.tiny = AutoencoderTiny.from_pretrained(str(taesd_folder), dtype=dtype)
            self.tiny.to(device)
            self.kind = "tiny-autoencoder"

    def decode(self, latents: torch.Tensor, size: tuple[int, int]) -> Image.Image:
        if self.tiny is None:
            return project_latents(latents, self.family, size)
        with torch.inference_mode():
            sample = self.tiny.decode(
                latents[:1].to(self.tiny.device, self.tiny.dtype), return_dict=False
            )[0]
        array = ((sample[0].float().clamp(-1, 1) + 1) * 127.5).round().byte()
        image = Image.fromarray(array.permute(1, 2, 0).cpu().numpy(), "RGB")
        return _fit(image, size)
