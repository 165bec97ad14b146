"""Micro SD/SDXL pipelines for training tests and the CPU benchmark.

Smaller than engine/diffusion/tiny_models.py's (which render tests share): a VAE that
downsamples 8x like real ones (64 px -> 8x8 latents) and a narrow UNet, so dozens of
training steps take seconds on a CPU. Same tokenizer and text encoders, same
`save_pretrained` layout, loaded through the real `from_pretrained` path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from photoflux_desktop.engine.diffusion.tiny_models import _clip_config, write_tokenizer


def _vae() -> Any:
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=(8, 8, 8, 8),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=4,
        sample_size=64,
    )


def _unet(**family_specific: Any) -> Any:
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        block_out_channels=(16, 32),
        layers_per_block=1,
        norm_num_groups=8,
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        **family_specific,
    )


def build_micro_pipeline(family: str, folder: Path, seed: int = 0) -> Path:
    from diffusers import (
        DDPMScheduler,
        StableDiffusionPipeline,
        StableDiffusionXLPipeline,
    )
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    torch.manual_seed(seed)
    tokenizer = write_tokenizer(folder / "_tokenizer_src")
    scheduler = DDPMScheduler(
        beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, clip_sample=False
    )
    if family == "sd":
        pipe: Any = StableDiffusionPipeline(
            unet=_unet(cross_attention_dim=32, attention_head_dim=8),
            vae=_vae(),
            text_encoder=CLIPTextModel(_clip_config(tokenizer)),
            tokenizer=tokenizer,
            scheduler=scheduler,
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False,
        )
    elif family == "sdxl":
        pipe = StableDiffusionXLPipeline(
            unet=_unet(
                attention_head_dim=(2, 4),
                use_linear_projection=True,
                addition_embed_type="text_time",
                addition_time_embed_dim=8,
                transformer_layers_per_block=(1, 1),
                projection_class_embeddings_input_dim=80,
                cross_attention_dim=64,
            ),
            vae=_vae(),
            text_encoder=CLIPTextModel(_clip_config(tokenizer)),
            text_encoder_2=CLIPTextModelWithProjection(_clip_config(tokenizer, projection=True)),
            tokenizer=tokenizer,
            tokenizer_2=tokenizer,
            scheduler=scheduler,
        )
    else:
        raise ValueError(f"no micro pipeline for {family}")
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder
