"""Tiny random-weight diffusion pipelines, saved in the same layout real models use.

Tests, benchmarks and `photoflux doctor` style self-checks load these through the
real `from_pretrained` path, so nothing is ever downloaded. The tokenizer is built
from a vocabulary written here (a byte-level CLIP BPE with no merges): with the hub
offline, transformers can otherwise hand back an empty tokenizer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from photoflux_desktop.engine.presets import Family

_BOS, _EOS = "<|startoftext|>", "<|endoftext|>"
VOCAB_SIZE = 1000


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible byte -> printable character table."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    chars = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in chars), strict=True))


def write_tokenizer(folder: Path) -> Any:
    """A CLIP tokenizer whose vocabulary is every byte, alone and word-final."""
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    symbols = list(_bytes_to_unicode().values())
    vocab = {token: index for index, token in enumerate(symbols + [s + "</w>" for s in symbols])}
    vocab[_BOS] = len(vocab)
    vocab[_EOS] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    tokenizer = CLIPTokenizer(
        vocab_file=str(folder / "vocab.json"),
        merges_file=str(folder / "merges.txt"),
        model_max_length=32,
    )
    tokenizer.save_pretrained(folder)
    return tokenizer


def _clip_config(tokenizer: Any, projection: bool = False) -> Any:
    from transformers import CLIPTextConfig

    return CLIPTextConfig(
        bos_token_id=tokenizer.convert_tokens_to_ids(_BOS),
        eos_token_id=tokenizer.convert_tokens_to_ids(_EOS),
        pad_token_id=tokenizer.convert_tokens_to_ids(_EOS),
        hidden_size=32,
        intermediate_size=37,
        layer_norm_eps=1e-05,
        num_attention_heads=4,
        num_hidden_layers=2,
        vocab_size=VOCAB_SIZE,
        max_position_embeddings=77,
        projection_dim=32 if projection else 512,
    )


def _sd_vae() -> Any:
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=(32, 64),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        layers_per_block=1,
        sample_size=64,
    )


def _tiny_unet(**family_specific: Any) -> Any:
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        **family_specific,
    )


def _sd_pipeline(tokenizer: Any) -> Any:
    from diffusers import EulerAncestralDiscreteScheduler, StableDiffusionPipeline
    from transformers import CLIPTextModel

    unet = _tiny_unet(cross_attention_dim=32, attention_head_dim=8)
    return StableDiffusionPipeline(
        unet=unet,
        vae=_sd_vae(),
        text_encoder=CLIPTextModel(_clip_config(tokenizer)),
        tokenizer=tokenizer,
        scheduler=EulerAncestralDiscreteScheduler(timestep_spacing="trailing", steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def _sdxl_pipeline(tokenizer: Any) -> Any:
    from diffusers import EulerAncestralDiscreteScheduler, StableDiffusionXLPipeline
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    unet = _tiny_unet(
        attention_head_dim=(2, 4),
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        transformer_layers_per_block=(1, 1),
        projection_class_embeddings_input_dim=80,  # 6 time ids * 8 + 32 pooled
        cross_attention_dim=64,  # 32 + 32 from the two text encoders
    )
    return StableDiffusionXLPipeline(
        unet=unet,
        vae=_sd_vae(),
        text_encoder=CLIPTextModel(_clip_config(tokenizer)),
        text_encoder_2=CLIPTextModelWithProjection(_clip_config(tokenizer, projection=True)),
        tokenizer=tokenizer,
        tokenizer_2=tokenizer,
        scheduler=EulerAncestralDiscreteScheduler(timestep_spacing="trailing", steps_offset=1),
    )


def _flux_pipeline(tokenizer: Any) -> Any:
    from diffusers import (
        AutoencoderKL,
        FlowMatchEulerDiscreteScheduler,
        FluxPipeline,
        FluxTransformer2DModel,
    )
    from transformers import CLIPTextModel, T5Config, T5EncoderModel

    transformer = FluxTransformer2DModel(
        patch_size=1,
        in_channels=16,  # 4 latent channels packed 2×2
        num_layers=1,
        num_single_layers=1,
        attention_head_dim=16,
        num_attention_heads=2,
        joint_attention_dim=32,
        pooled_projection_dim=32,
        axes_dims_rope=(4, 4, 8),
    )
    t5 = T5EncoderModel(
        T5Config(
            vocab_size=VOCAB_SIZE,
            d_model=32,
            d_kv=8,
            d_ff=37,
            num_layers=2,
            num_heads=4,
            relative_attention_num_buckets=8,
            decoder_start_token_id=0,
        )
    )
    vae = AutoencoderKL(
        sample_size=64,
        in_channels=3,
        out_channels=3,
        block_out_channels=(16, 32),
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=16,
        use_quant_conv=False,
        use_post_quant_conv=False,
        shift_factor=0.0609,
        scaling_factor=1.5035,
    )
    return FluxPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),
        vae=vae,
        text_encoder=CLIPTextModel(_clip_config(tokenizer, projection=True)),
        tokenizer=tokenizer,
        text_encoder_2=t5,
        tokenizer_2=tokenizer,
        transformer=transformer,
    )


_BUILDERS = {"sd": _sd_pipeline, "sdxl": _sdxl_pipeline, "flux": _flux_pipeline}


def build_tiny_pipeline(family: Family, folder: Path, seed: int = 0) -> Path:
    """Build, save and return a folder loadable with `from_pretrained`."""
    torch.manual_seed(seed)
    tokenizer = write_tokenizer(folder / "_tokenizer_src")
    pipeline = _BUILDERS[family](tokenizer)
    pipeline.save_pretrained(folder, safe_serialization=True)
    return folder


def build_tiny_preview_decoder(folder: Path, latent_channels: int = 4, seed: int = 0) -> Path:
    """A tiny AutoencoderTiny (TAESD-shaped) for preview tests."""
    from diffusers import AutoencoderTiny

    torch.manual_seed(seed)
    decoder = AutoencoderTiny(
        in_channels=3,
        out_channels=3,
        encoder_block_out_channels=(8, 8),
        decoder_block_out_channels=(8, 8),
        num_encoder_blocks=(1, 1),
        num_decoder_blocks=(1, 1),
        latent_channels=latent_channels,
        upsampling_scaling_factor=2,
    )
    decoder.save_pretrained(folder, safe_serialization=True)
    return folder
