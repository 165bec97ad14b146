"""A LoRA for the tiny SD UNet, made with peft as training would (non-zero B matrices)."""

from __future__ import annotations

from pathlib import Path

import torch


def make_tiny_sd_lora(model_folder: Path, out_folder: Path) -> Path:
    from diffusers import StableDiffusionPipeline
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    pipe = StableDiffusionPipeline.from_pretrained(model_folder)
    pipe.unet.add_adapter(
        LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"])
    )
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, param in pipe.unet.named_parameters():
            if "lora_B" in name:  # zero at init; a trained adapter is not
                param.copy_(torch.randn(param.shape, generator=generator) * 0.5)
    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(pipe.unet))
    StableDiffusionPipeline.save_lora_weights(out_folder, unet_lora_layers=layers)
    return out_folder / "pytorch_lora_weights.safetensors"
