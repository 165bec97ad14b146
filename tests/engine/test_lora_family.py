"""Which family a LoRA was made for, read from its safetensors header alone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from photoflux_desktop.engine.errors import ErrorKind, PhotoFluxError
from photoflux_desktop.engine.lora_family import UNET, check_lora_fits, read_lora_target

CROSS_K = "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k"


def lora(folder: Path, keys: dict[str, tuple[int, ...]], metadata=None, name="l.safetensors"):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    save_file({key: np.zeros(shape, np.float32) for key, shape in keys.items()}, path, metadata)
    return path


def unet_model(folder: Path, cross_attention_dim: int) -> Path:
    (folder / "unet").mkdir(parents=True)
    (folder / "unet" / "config.json").write_text(
        json.dumps({"cross_attention_dim": cross_attention_dim})
    )
    return folder


@pytest.mark.parametrize(
    ("keys", "metadata", "family", "dim"),
    [
        ({f"unet.{CROSS_K}.lora.down.weight": (4, 768)}, None, UNET, 768),  # diffusers
        ({f"unet.{CROSS_K}.lora_A.weight": (4, 2048)}, None, UNET, 2048),  # peft
        ({f"lora_unet_{CROSS_K.replace('.', '_')}.lora_down.weight": (4, 1024)}, None, UNET, 1024),
        (
            {"text_encoder_2.text_model.encoder.layers.0.q_proj.lora_A.weight": (4, 8)},
            None,
            "sdxl",
            None,
        ),
        (
            {"lora_te2_text_model_encoder_layers_0_q_proj.lora_down.weight": (4, 8)},
            None,
            "sdxl",
            None,
        ),
        (
            {"transformer.single_transformer_blocks.0.attn.to_q.lora_A.weight": (4, 8)},
            None,
            "flux",
            None,
        ),
        ({"lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight": (4, 8)}, None, "flux", None),
        (
            {f"lora_unet_{CROSS_K.replace('.', '_')}.lora_down.weight": (4, 2048)},
            {"ss_base_model_version": "sdxl_base_v1-0"},
            "sdxl",
            2048,
        ),
        ({"x.weight": (4, 8)}, {"modelspec.architecture": "flux-1-dev/lora"}, "flux", None),
        ({"x.weight": (4, 8)}, {"modelspec.architecture": "stable-diffusion-v1/lora"}, "sd", None),
        ({"some.unknown.layer.weight": (4, 8)}, None, None, None),
    ],
)
def test_family_is_read_from_metadata_or_key_names(tmp_path, keys, metadata, family, dim):
    target = read_lora_target(lora(tmp_path, keys, metadata))
    assert (target.family, target.cross_attention_dim) == (family, dim)


def test_a_diffusers_lora_folder_and_unreadable_files(tmp_path):
    folder = tmp_path / "folder"
    lora(
        folder,
        {f"unet.{CROSS_K}.lora.down.weight": (4, 768)},
        name="pytorch_lora_weights.safetensors",
    )
    assert read_lora_target(folder).family == UNET
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\xff" * 64)
    assert read_lora_target(junk).family is None
    other = tmp_path / "adapter.bin"
    other.write_bytes(b"pickle")
    assert read_lora_target(other).family is None


@pytest.mark.parametrize(
    ("keys", "metadata", "model_family", "model_dim", "words"),
    [
        ({"transformer.x.lora_A.weight": (4, 8)}, None, "sd", 768, "made for FLUX"),
        ({f"unet.{CROSS_K}.lora_A.weight": (4, 768)}, None, "flux", None, "made for SD/SDXL"),
        ({"text_encoder_2.x.lora_A.weight": (4, 8)}, None, "sd", 768, "made for SDXL"),
        (
            {"x.weight": (4, 8)},
            {"ss_base_model_version": "sd_v1"},
            "sdxl",
            2048,
            "Stable Diffusion 1/2",
        ),
        ({f"unet.{CROSS_K}.lora_A.weight": (4, 2048)}, None, "sd", 768, "2048-wide"),
        ({f"unet.{CROSS_K}.lora_A.weight": (4, 768)}, None, "sd", 1024, "768-wide"),  # SD1 on SD2
    ],
)
def test_a_lora_for_another_family_is_refused(
    tmp_path, keys, metadata, model_family, model_dim, words
):
    path = lora(tmp_path / "lora", keys, metadata)
    model = unet_model(tmp_path / "model", model_dim) if model_dim else tmp_path
    with pytest.raises(PhotoFluxError) as caught:
        check_lora_fits(str(path), model_family, model, "test-model")
    error = caught.value.error
    assert error.kind is ErrorKind.BAD_INPUT and "does not fit this model" in error.message
    assert words in error.message


@pytest.mark.parametrize(
    ("keys", "model_family", "model_dim"),
    [
        ({f"unet.{CROSS_K}.lora_A.weight": (4, 768)}, "sd", 768),
        ({f"unet.{CROSS_K}.lora_A.weight": (4, 2048)}, "sdxl", 2048),
        ({"text_encoder_2.x.lora_A.weight": (4, 8)}, "sdxl", 2048),
        ({"transformer.x.lora_A.weight": (4, 8)}, "flux", None),
        ({"some.unknown.layer.weight": (4, 8)}, "sd", 768),  # undecidable: load decides
    ],
)
def test_a_fitting_or_undecidable_lora_passes(tmp_path, keys, model_family, model_dim):
    path = lora(tmp_path / "lora", keys)
    model = unet_model(tmp_path / "model", model_dim) if model_dim else tmp_path
    check_lora_fits(str(path), model_family, model, "test-model")


def test_a_damaged_safetensors_lora_is_refused_before_any_load(tmp_path):
    """Found by the outside review: a text file named .safetensors reached the model
    load (seconds to minutes) before being refused."""
    junk = tmp_path / "junk.safetensors"
    junk.write_text("not a LoRA\n")
    with pytest.raises(PhotoFluxError) as caught:
        check_lora_fits(str(junk), "sd", tmp_path, "test-model")
    assert caught.value.error.kind is ErrorKind.BAD_INPUT
    assert "damaged or not a safetensors file" in caught.value.error.message
