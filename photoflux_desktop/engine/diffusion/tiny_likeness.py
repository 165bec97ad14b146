"""Tiny random-weight likeness add-ons for tests and benchmarks (never downloaded).

Each is saved the way its real counterpart is laid out, so the renderer finds and loads
it through the same path: ControlNets with `save_pretrained`, an IP-Adapter plus-face
as one safetensors file in the original (h94) key layout beside a tiny CLIP image
encoder, both under `<models folder>/<catalog id>`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch


def _unet(pipeline_folder: Path) -> Any:
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel.from_pretrained(str(pipeline_folder / "unet"))


def build_tiny_controlnet(
    pipeline_folder: Path, folder: Path, union: bool = False, seed: int = 0
) -> Path:
    """A ControlNet copied from a tiny pipeline's UNet. Its conditioning embedding
    downsamples by 2, as the tiny VAE does (real ones: by 8, as their VAEs do)."""
    from diffusers import ControlNetModel, ControlNetUnionModel

    torch.manual_seed(seed)
    cls = ControlNetUnionModel if union else ControlNetModel
    controlnet = cls.from_unet(_unet(pipeline_folder), conditioning_embedding_out_channels=(16, 32))
    if union:  # from_unet keeps the full-size (320-wide) mode transformer: shrink it
        # (private keys dropped: "_use_default_values" would restore the defaults)
        config = {key: value for key, value in controlnet.config.items() if key[0] != "_"}
        width = config["block_out_channels"][0]
        config.update(num_trans_channel=width, num_proj_channel=width, num_trans_head=4)
        controlnet = cls.from_config(config)
    with torch.no_grad():  # real ControlNets start at zero; random ones make a difference
        for name, parameter in controlnet.named_parameters():
            if "zero_conv" in name or "controlnet_down_blocks" in name or "mid_block" in name:
                parameter.normal_(0.0, 0.5)
    controlnet.save_pretrained(folder, safe_serialization=True)
    return folder


def _image_encoder(folder: Path) -> int:
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    config = CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        image_size=32,
        patch_size=4,
        projection_dim=32,
    )
    CLIPVisionModelWithProjection(config).save_pretrained(folder, safe_serialization=True)
    return config.hidden_size


def _original_resampler_key(name: str) -> str:
    """diffusers' IPAdapterPlusImageProjection names -> the original Resampler's."""
    rules = (
        (r"layers\.(\d+)\.ln0\.", r"layers.\1.0.norm1."),
        (r"layers\.(\d+)\.ln1\.", r"layers.\1.0.norm2."),
        (r"layers\.(\d+)\.attn\.to_q\.", r"layers.\1.0.to_q."),
        (r"layers\.(\d+)\.attn\.to_out\.0\.", r"layers.\1.0.to_out."),
        (r"layers\.(\d+)\.ff\.0\.", r"layers.\1.1.0."),
        (r"layers\.(\d+)\.ff\.1\.net\.0\.proj\.", r"layers.\1.1.1."),
        (r"layers\.(\d+)\.ff\.1\.net\.2\.", r"layers.\1.1.3."),
    )
    for pattern, replacement in rules:
        name = re.sub(pattern, replacement, name)
    return name


def _image_projection(embed_dims: int, output_dims: int) -> dict[str, torch.Tensor]:
    from diffusers.models.embeddings import IPAdapterPlusImageProjection

    # heads are read back as to_q rows / 64, so one head of 64
    projection = IPAdapterPlusImageProjection(
        embed_dims=embed_dims, output_dims=output_dims, hidden_dims=64, heads=1, num_queries=4
    )
    weights = projection.state_dict()
    out: dict[str, torch.Tensor] = {}
    for name, value in weights.items():
        if ".attn.to_k." in name:
            kv = torch.cat([value, weights[name.replace(".to_k.", ".to_v.")]], dim=0)
            out[_original_resampler_key(name.replace(".attn.to_k.", ".0.to_kv."))] = kv
        elif ".attn.to_v." not in name:
            out[_original_resampler_key(name)] = value
    return {f"image_proj.{key}": value.contiguous() for key, value in out.items()}


def _ip_attention(unet: Any) -> dict[str, torch.Tensor]:
    """to_k_ip / to_v_ip per cross-attention layer, numbered as the original files are."""
    modules = dict(unet.named_modules())
    out: dict[str, torch.Tensor] = {}
    key_id = 1
    for name in unet.attn_processors:
        if not name.endswith("attn2.processor"):
            continue
        to_k = modules[name.removesuffix(".processor")].to_k.weight
        out[f"ip_adapter.{key_id}.to_k_ip.weight"] = torch.randn_like(to_k) * 0.5
        out[f"ip_adapter.{key_id}.to_v_ip.weight"] = torch.randn_like(to_k) * 0.5
        key_id += 2
    return out


def build_tiny_ip_adapter(
    pipeline_folder: Path, folder: Path, weight_name: str, image_encoder: str, seed: int = 0
) -> Path:
    """An IP-Adapter plus(-face) for a tiny pipeline, at `folder / weight_name`."""
    from safetensors.torch import save_file

    torch.manual_seed(seed)
    embed_dims = _image_encoder(folder / image_encoder)
    unet = _unet(pipeline_folder)
    weights = {
        **_image_projection(embed_dims, unet.config.cross_attention_dim),
        **_ip_attention(unet),
    }
    target = folder / weight_name
    target.parent.mkdir(parents=True, exist_ok=True)
    save_file(weights, str(target))
    return folder


def build_tiny_depth_estimator(folder: Path, seed: int = 0) -> Path:
    """A Depth Anything-shaped estimator (tiny DINOv2 backbone) with its processor."""
    from transformers import (
        DepthAnythingConfig,
        DepthAnythingForDepthEstimation,
        Dinov2Config,
        DPTImageProcessor,
    )

    torch.manual_seed(seed)
    backbone = Dinov2Config(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        image_size=32,
        patch_size=4,
        out_indices=[1, 2],
        reshape_hidden_states=False,
    )
    config = DepthAnythingConfig(
        backbone_config=backbone,
        patch_size=4,
        reassemble_hidden_size=32,
        reassemble_factors=[2, 1],
        neck_hidden_sizes=[16, 32],
        fusion_hidden_size=16,
        head_hidden_size=8,
    )
    DepthAnythingForDepthEstimation(config).save_pretrained(folder, safe_serialization=True)
    processor = DPTImageProcessor(
        size={"height": 32, "width": 32}, keep_aspect_ratio=True, ensure_multiple_of=4
    )
    processor.save_pretrained(folder)
    return folder


def install_tiny_likeness(pipeline_folder: Path, family: str, models_dir: Path) -> list[str]:
    """Every likeness add-on for `family`, where downloads would have put them."""
    from photoflux_desktop.engine.catalog import ADDONS

    installed = []
    for addon in ADDONS.values():
        target = models_dir / addon.id
        if addon.kind == "depth-estimator" and not target.exists():
            build_tiny_depth_estimator(target)
            installed.append(addon.id)
        if family not in addon.families or addon.opt_in:
            continue
        if addon.kind == "ip-adapter":
            build_tiny_ip_adapter(
                pipeline_folder, target, addon.weight_name or "", addon.image_encoder or ""
            )
        else:
            build_tiny_controlnet(pipeline_folder, target, union=addon.kind == "controlnet-union")
        installed.append(addon.id)
    return installed
