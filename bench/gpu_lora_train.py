"""LoRA training on full-size architectures with random weights, per device preset.

For SD 2.1 (SD-Turbo), SDXL and FLUX.1 [schnell] the denoiser is built from its
published config with random weights (speed and memory do not depend on the values),
directly on the GPU, then trained the way PhotoFlux trains (engine/training): the
preset's rank, batch x accumulation, resolution, precision, gradient checkpointing,
int8 base weights (optimum-quanto) and optimizer, with the family's loss from
`family_ops` on cached latents and text features (the text encoders and VAE are not
on the GPU while training, as with the presets' offload). Reports steps/s and peak
VRAM per family and preset, or "oom" where a preset does not fit this card.

    python -m bench.gpu_lora_train [--families sd sdxl flux] [--tiers 8gb 12gb 16gb 24gb]
                                   [--steps 10]

Needs CUDA: without it, prints one JSON object with the reason and exits 2.
Published anchors: a FLUX QLoRA of 700 steps takes about 41 min on an RTX 4090 at about
9 GB (~3.5 s/step); kohya's FLUX table: 24 GB batch 2, 12 GB with block swapping.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from types import SimpleNamespace
from typing import Any

import torch

from bench._util import emit
from photoflux_desktop.engine.devices import DeviceInfo
from photoflux_desktop.engine.training.family_ops import LORA_TARGETS, OPS, Prompt
from photoflux_desktop.engine.training.presets import TIERS, make_preset

TEXT = {"sd": (77, 1024, None), "sdxl": (77, 2048, 1280), "flux": (512, 4096, 768)}


def build_denoiser(family: str) -> Any:
    from diffusers import FluxTransformer2DModel, UNet2DConditionModel

    if family == "flux":  # FLUX.1 [schnell]: no guidance embedding
        return FluxTransformer2DModel(guidance_embeds=False)
    if family == "sdxl":
        return UNet2DConditionModel(
            block_out_channels=(320, 640, 1280),
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
            layers_per_block=2,
            transformer_layers_per_block=(1, 2, 10),
            attention_head_dim=(5, 10, 20),
            cross_attention_dim=2048,
            use_linear_projection=True,
            addition_embed_type="text_time",
            addition_time_embed_dim=256,
            projection_class_embeddings_input_dim=2816,
            sample_size=128,
        )
    return UNet2DConditionModel(  # SD 2.1
        block_out_channels=(320, 640, 1280, 1280),
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        layers_per_block=2,
        cross_attention_dim=1024,
        attention_head_dim=(5, 10, 20, 20),
        use_linear_projection=True,
        sample_size=96,
    )


def _train_step(family: str, preset: Any) -> Any:
    """Build the denoiser as the preset trains it; returns one optimizer step."""
    from diffusers import DDPMScheduler
    from peft import LoraConfig

    dtype = torch.bfloat16 if preset.mixed_precision == "bf16" else torch.float16
    cuda = torch.device("cuda")
    with torch.device(cuda):
        denoiser = build_denoiser(family).to(dtype)
    denoiser.requires_grad_(False)
    if preset.quantize_base == "int8":
        from optimum.quanto import freeze, qint8, quantize

        quantize(denoiser, weights=qint8)
        freeze(denoiser)
    denoiser.add_adapter(
        LoraConfig(r=preset.rank, lora_alpha=preset.rank, init_lora_weights="gaussian",
                   target_modules=LORA_TARGETS["transformer" if family == "flux" else "unet"])
    )  # fmt: skip
    params = [p for p in denoiser.parameters() if p.requires_grad]
    for param in params:
        param.data = param.data.float()
    if preset.gradient_checkpointing:
        denoiser.enable_gradient_checkpointing()
    if preset.optimizer == "adamw8bit":
        import bitsandbytes

        optimizer: Any = bitsandbytes.optim.AdamW8bit(params, lr=preset.learning_rate)
    else:
        optimizer = torch.optim.AdamW(params, lr=preset.learning_rate)
    name = "transformer" if family == "flux" else "unet"
    pipe = SimpleNamespace(**{name: denoiser}, scheduler=DDPMScheduler(), vae_scale_factor=8)
    ops = OPS[family](pipe, cuda, dtype)
    ops.prepare()
    denoiser.train()
    channels, side = (16 if family == "flux" else 4), preset.resolution // 8
    length, width, pooled = TEXT[family]
    prompt = Prompt(
        torch.randn(1, length, width, device=cuda, dtype=dtype),
        torch.randn(1, pooled, device=cuda, dtype=dtype) if pooled else None,
        torch.zeros(length, 3, device=cuda, dtype=dtype) if family == "flux" else None,
    )
    generator = torch.Generator().manual_seed(0)

    def step() -> None:
        for _ in range(preset.grad_accum):
            latents = torch.randn(preset.batch, channels, side, side, device=cuda, dtype=dtype)
            with torch.autocast("cuda", dtype=dtype):
                loss = ops.loss(latents, [prompt] * preset.batch, generator)
            (loss / preset.grad_accum).backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


def one_preset(family: str, tier: str, device: DeviceInfo, steps: int) -> dict[str, Any]:
    preset = make_preset(tier, family, device)
    if preset is None:
        return {"tier": tier, "skipped": "no preset for this family at this tier"}
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    result: dict[str, Any] = {"tier": tier, "preset": preset.summary()}
    try:
        step = _train_step(family, preset)
        step()  # warm-up: kernels and allocator
        torch.cuda.synchronize()
        started = time.perf_counter()
        for _ in range(steps):
            step()
        torch.cuda.synchronize()
        elapsed = time.perf_counter() - started
        result.update(
            steps_per_s=round(steps / elapsed, 3),
            s_per_step=round(elapsed / steps, 3),
            estimate_s_per_step=preset.seconds_per_step,
            minutes_for_preset_steps=round(preset.steps * elapsed / steps / 60, 1),
        )
    except torch.OutOfMemoryError:
        result["oom"] = True
    result["peak_vram_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    step = None
    gc.collect()
    torch.cuda.empty_cache()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", default=["sd", "sdxl", "flux"])
    parser.add_argument("--tiers", nargs="+", default=[t for t in TIERS if t != "cpu"])
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.stdout.write(
            json.dumps({"benchmark": "gpu_lora_train", "ok": False,
                        "error": "CUDA is not available: this benchmark needs an NVIDIA GPU "
                        f"(torch {torch.__version__}). Use bench/lora_train.py on a CPU."})
            + "\n"
        )  # fmt: skip
        return 2
    _free, total = torch.cuda.mem_get_info()
    # the card is described as its tier says, so each preset runs as it would there
    results: dict[str, list[dict[str, Any]]] = {}
    for family in args.families:
        results[family] = []
        for tier in args.tiers:
            size = {"8gb": 8.0, "12gb": 12.0, "16gb": 16.0, "24gb": 24.0}[tier]
            device = DeviceInfo(
                kind="cuda", name=torch.cuda.get_device_name(0), total_gb=size,
                free_gb=size, bf16=torch.cuda.is_bf16_supported(),
            )  # fmt: skip
            results[family].append(one_preset(family, tier, device, args.steps))
            sys.stderr.write(json.dumps({family: results[family][-1]}) + "\n")
    emit(
        "gpu_lora_train",
        {
            "gpu": torch.cuda.get_device_name(0),
            "vram_gb": round(total / 2**30, 1),
            "torch": torch.__version__,
            "note": "peak VRAM is the denoiser, LoRA, optimizer and activations; the "
            "tiers' budgets are the card sizes they are named after",
            "results": results,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
