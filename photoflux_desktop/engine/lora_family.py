"""Which model family a LoRA file was made for, read from its safetensors header.

Only the header is read (key names, shapes, metadata), never the weights, so a
request with a LoRA for another family is refused before any model loads. The rule:

1. Key names: FLUX adapters target a transformer (`transformer.`, `double_blocks`,
   `single_blocks`); SDXL adapters have a second text encoder (`text_encoder_2.`,
   `lora_te1_`/`lora_te2_`); `unet.`/`lora_unet_`/`lora_te_` keys mean a UNet
   model, SD or SDXL.
2. Where the keys leave it open, trainer metadata (`modelspec.architecture`,
   kohya's `ss_base_model_version`) names the base model.
3. For a UNet adapter, the input width of a cross-attention key projection
   (`attn2.to_k`) is the text width of the model it was trained on (768 for SD 1,
   1024 for SD 2, 2048 for SDXL); it must equal the model's `cross_attention_dim`.

A file none of this decides (another format, unusual key names) is left to the
load-time check, which refuses a LoRA whose layers do not exist in the model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from photoflux_desktop.engine.errors import bad_input
from photoflux_desktop.engine.training.adapters import family_mismatch

UNET = "unet"  # SD or SDXL, not yet told apart
_DOWN_SUFFIXES = ("lora_A.weight", "lora.down.weight", "lora_down.weight", "down.weight")
_FAMILY_NAMES = {"sd": "Stable Diffusion 1/2", "sdxl": "SDXL", "flux": "FLUX", UNET: "SD/SDXL"}


@dataclass(frozen=True)
class LoraTarget:
    family: str | None  # "sd", "sdxl", "flux", UNET, or None when undecidable
    cross_attention_dim: int | None
    evidence: str
    metadata: dict[str, str] = field(default_factory=dict)


def lora_file(path: Path) -> Path | None:
    """The safetensors file behind a LoRA path (a file, or a diffusers LoRA folder)."""
    if path.is_file():
        return path if path.suffix == ".safetensors" else None
    if path.is_dir():
        preferred = path / "pytorch_lora_weights.safetensors"
        if preferred.is_file():
            return preferred
        found = sorted(path.glob("*.safetensors"))
        return found[0] if len(found) == 1 else None
    return None


def read_lora_target(path: Path) -> LoraTarget:
    file = lora_file(path)
    if file is None:
        return LoraTarget(None, None, "not a safetensors file")
    try:
        from safetensors import safe_open

        with safe_open(str(file), framework="numpy") as handle:
            metadata = handle.metadata() or {}
            keys = list(handle.keys())
            dim = _cross_attention_dim(handle, keys)
    except Exception as exc:  # a damaged file is the load-time check's business
        return LoraTarget(None, None, f"unreadable header ({type(exc).__name__})")
    # key names are facts about the file, metadata a trainer's claim: the claim only
    # decides what the keys leave open (SD or SDXL for a UNet-only file, or nothing)
    family, evidence = _family_from_keys(keys)
    if family in (None, UNET):
        claimed, claim = _family_from_metadata(metadata)
        if claimed is not None:
            family, evidence = claimed, claim
    return LoraTarget(family, dim, evidence, metadata)


def _family_from_metadata(metadata: dict[str, str]) -> tuple[str | None, str]:
    architecture = metadata.get("modelspec.architecture", "").lower()
    base = metadata.get("ss_base_model_version", "").lower()
    for text, where in ((architecture, "modelspec.architecture"), (base, "ss_base_model_version")):
        if "flux" in text:
            return "flux", f"its metadata ({where}) names FLUX"
        if "xl" in text:
            return "sdxl", f"its metadata ({where}) names SDXL"
        if text.startswith(("stable-diffusion-v1", "stable-diffusion-v2", "sd_v1", "sd_v2")):
            return "sd", f"its metadata ({where}) names Stable Diffusion 1/2"
    return None, ""


def _family_from_keys(keys: list[str]) -> tuple[str | None, str]:
    if any(
        key.startswith(("transformer.", "diffusion_model."))
        or "double_blocks" in key
        or "single_blocks" in key
        or "single_transformer_blocks" in key
        for key in keys
    ):
        return "flux", "its layers belong to a FLUX transformer"
    if any(key.startswith(("text_encoder_2.", "lora_te1_", "lora_te2_")) for key in keys):
        return "sdxl", "it adapts SDXL's second text encoder"
    if any(
        key.startswith(("unet.", "lora_unet_", "lora_te_", "text_encoder."))
        or "down_blocks" in key
        or "mid_block" in key
        for key in keys
    ):
        return UNET, "its layers belong to a UNet"
    return None, "its key names match no known family"


def _cross_attention_dim(handle: Any, keys: list[str]) -> int | None:
    for key in keys:
        flat = key.replace(".", "_")
        cross_key = "attn2_to_k" in flat or "attn2_processor_to_k" in flat
        if cross_key and key.endswith(_DOWN_SUFFIXES):
            shape = handle.get_slice(key).get_shape()
            return int(shape[1]) if len(shape) == 2 else None
    return None


def model_cross_attention_dim(model_folder: Path) -> int | None:
    """The text width a UNet model's cross-attention expects, from its config."""
    try:
        config = json.loads((model_folder / "unet" / "config.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    dim = config.get("cross_attention_dim")
    return dim if isinstance(dim, int) else None


def check_lora_fits(lora_path: str, family: str, model_folder: Path, model_label: str) -> None:
    """Refuse a LoRA made for another family; say nothing when it cannot be told."""
    target = read_lora_target(Path(lora_path))
    if target.evidence.startswith("unreadable"):  # a .safetensors file that is not one
        raise bad_input(
            f"The LoRA {lora_path} is damaged or not a safetensors file ({target.evidence}).",
            "Download the LoRA again, or pass the right file.",
            field="loras",
        )
    adapter_why = family_mismatch(target.metadata, family, model_label)
    if adapter_why:  # one of ours: its metadata names the family it was trained on
        raise bad_input(
            f"{adapter_why}.",
            "Render with a model of the adapter's family (its base model), or drop --adapter.",
            gui_hint="Choose a model of the adapter's family, or clear the adapter.",
            field="adapters",
            lora_family=target.metadata.get("photoflux.family"),
            model_family=family,
        )
    why = _mismatch(target, family, model_folder)
    if why:
        raise bad_input(
            f"The LoRA {lora_path} does not fit this model ({model_label}): {why}.",
            f"Use a LoRA trained for this {_FAMILY_NAMES[family]} model, or drop --lora.",
            field="loras",
            lora_family=target.family,
            model_family=family,
        )


def _mismatch(target: LoraTarget, family: str, model_folder: Path) -> str | None:
    if target.family is None:
        return None
    made_for = _FAMILY_NAMES[target.family]
    if (target.family == "flux") != (family == "flux"):
        return f"it was made for {made_for} ({target.evidence})"
    if target.family in ("sd", "sdxl") and target.family != family:
        return f"it was made for {made_for} ({target.evidence})"
    model_dim = model_cross_attention_dim(model_folder) if family != "flux" else None
    if target.cross_attention_dim and model_dim and target.cross_attention_dim != model_dim:
        return (
            f"it was trained on a model with {target.cross_attention_dim}-wide text "
            f"features, and this one has {model_dim}"
        )
    return None
