"""GPU latency and memory of full-size SD-Turbo, SDXL-Turbo and FLUX.1 [schnell].

The architectures are built from their published configs with random weights
(latency does not depend on weight values), so nothing is downloaded. For each model,
size, memory plan and quantization it reports per-step latency, end-to-end img2img
latency and peak VRAM. `--smoke` runs the same code on tiny configs on the CPU so the
script itself is checked where no GPU is lent.

    python -m bench.gpu_diffusion                       # everything (needs ~60 GB VRAM)
    python -m bench.gpu_diffusion --models sdxl-turbo --sizes 512 --steps 1
    python -m bench.gpu_diffusion --smoke               # CPU, tiny configs
"""

from __future__ import annotations

import argparse
import gc
import itertools
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from bench._util import emit
from photoflux_desktop.engine.diffusion.tiny_models import write_tokenizer

FULL = "full"


def _clip(hidden: int, layers: int, heads: int, inter: int, proj: int, tokenizer: Any, **kw):
    from transformers import CLIPTextConfig

    eos = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    return CLIPTextConfig(
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=inter,
        projection_dim=proj,
        vocab_size=49408,
        max_position_embeddings=77,
        bos_token_id=eos - 1,
        eos_token_id=eos,
        pad_token_id=eos,
        hidden_act="gelu",
        **kw,
    )


def _sd_vae(tiny: bool, latent_channels: int = 4, **kw):
    from diffusers import AutoencoderKL

    blocks = (32, 32) if tiny else (128, 256, 512, 512)
    return AutoencoderKL(
        block_out_channels=blocks,
        latent_channels=latent_channels,
        layers_per_block=1 if tiny else 2,
        norm_num_groups=32,
        down_block_types=("DownEncoderBlock2D",) * len(blocks),
        up_block_types=("UpDecoderBlock2D",) * len(blocks),
        **kw,
    )


def build_sd_turbo(tiny: bool, tokenizer: Any):
    """SD 2.1 architecture (SD-Turbo): OpenCLIP ViT-H text encoder, 865M UNet."""
    from diffusers import (
        EulerAncestralDiscreteScheduler,
        StableDiffusionImg2ImgPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextModel

    unet = UNet2DConditionModel(
        block_out_channels=(32, 64) if tiny else (320, 640, 1280, 1280),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D")
        if tiny
        else ("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D")
        if tiny
        else ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        layers_per_block=1 if tiny else 2,
        cross_attention_dim=32 if tiny else 1024,
        attention_head_dim=(2, 4) if tiny else (5, 10, 20, 20),
        use_linear_projection=True,
        sample_size=96,
    )
    text = CLIPTextModel(
        _clip(32, 2, 4, 37, 32, tokenizer) if tiny else _clip(1024, 23, 16, 4096, 512, tokenizer)
    )
    return StableDiffusionImg2ImgPipeline(
        vae=_sd_vae(tiny),
        text_encoder=text,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=EulerAncestralDiscreteScheduler(timestep_spacing="trailing", steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def build_sdxl_turbo(tiny: bool, tokenizer: Any):
    """SDXL architecture (SDXL-Turbo): CLIP ViT-L + OpenCLIP bigG, 2.6B UNet."""
    from diffusers import (
        EulerAncestralDiscreteScheduler,
        StableDiffusionXLImg2ImgPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    unet = UNet2DConditionModel(
        block_out_channels=(32, 64) if tiny else (320, 640, 1280),
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D")
        if tiny
        else ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D")
        if tiny
        else ("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        layers_per_block=1 if tiny else 2,
        transformer_layers_per_block=(1, 1) if tiny else (1, 2, 10),
        attention_head_dim=(2, 4) if tiny else (5, 10, 20),
        cross_attention_dim=64 if tiny else 2048,
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=8 if tiny else 256,
        projection_class_embeddings_input_dim=80 if tiny else 2816,
        sample_size=128,
    )
    text = CLIPTextModel(
        _clip(32, 2, 4, 37, 32, tokenizer) if tiny else _clip(768, 12, 12, 3072, 768, tokenizer)
    )
    text_2 = CLIPTextModelWithProjection(
        _clip(32, 2, 4, 37, 32, tokenizer) if tiny else _clip(1280, 32, 20, 5120, 1280, tokenizer)
    )
    return StableDiffusionXLImg2ImgPipeline(
        vae=_sd_vae(tiny, force_upcast=False),
        text_encoder=text,
        text_encoder_2=text_2,
        tokenizer=tokenizer,
        tokenizer_2=tokenizer,
        unet=unet,
        scheduler=EulerAncestralDiscreteScheduler(timestep_spacing="trailing", steps_offset=1),
        requires_aesthetics_score=False,
    )


def build_flux_schnell(tiny: bool, tokenizer: Any):
    """FLUX.1 [schnell]: 12B MMDiT, T5-XXL + CLIP-L text encoders, 16-channel VAE."""
    from diffusers import (
        FlowMatchEulerDiscreteScheduler,
        FluxImg2ImgPipeline,
        FluxTransformer2DModel,
    )
    from transformers import CLIPTextModel, T5Config, T5EncoderModel

    transformer = FluxTransformer2DModel(
        patch_size=1,
        in_channels=16 if tiny else 64,
        num_layers=1 if tiny else 19,
        num_single_layers=1 if tiny else 38,
        attention_head_dim=16 if tiny else 128,
        num_attention_heads=2 if tiny else 24,
        joint_attention_dim=32 if tiny else 4096,
        pooled_projection_dim=32 if tiny else 768,
        guidance_embeds=False,
        axes_dims_rope=(4, 4, 8) if tiny else (16, 56, 56),
    )
    t5 = T5EncoderModel(
        T5Config(
            vocab_size=32128,
            d_model=32 if tiny else 4096,
            d_ff=37 if tiny else 10240,
            d_kv=8 if tiny else 64,
            num_heads=4 if tiny else 64,
            num_layers=2 if tiny else 24,
            feed_forward_proj="gated-gelu",
            relative_attention_num_buckets=32,
        )
    )
    text = CLIPTextModel(
        _clip(32, 2, 4, 37, 32, tokenizer) if tiny else _clip(768, 12, 12, 3072, 768, tokenizer)
    )
    vae = _sd_vae(
        tiny,
        latent_channels=4 if tiny else 16,
        use_quant_conv=False,
        use_post_quant_conv=False,
        shift_factor=0.1159,
        scaling_factor=0.3611,
    )
    return FluxImg2ImgPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(shift=1.0),
        vae=vae,
        text_encoder=text,
        tokenizer=tokenizer,
        text_encoder_2=t5,
        tokenizer_2=tokenizer,
        transformer=transformer,
    )


BUILDERS = {
    "sd-turbo": build_sd_turbo,
    "sdxl-turbo": build_sdxl_turbo,
    "flux-schnell": build_flux_schnell,
}


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _place(pipe: Any, plan: str, device: str) -> None:
    if plan == "offload":
        pipe.enable_model_cpu_offload(device=device)
    elif plan == "sequential":
        pipe.enable_sequential_cpu_offload(device=device)
    else:
        pipe.to(device)
        if plan == "lowmem":
            pipe.vae.enable_tiling()


def _time_one(pipe: Any, name: str, size: int, steps: int, device: str) -> dict[str, float]:
    step_ends: list[float] = []

    def on_step(running: Any, step: int, timestep: Any, kwargs: dict) -> dict:
        _sync(device)
        step_ends.append(time.perf_counter())
        return kwargs

    image = Image.new("RGB", (size, size), (120, 110, 100))
    kwargs: dict[str, Any] = {
        "prompt": "a portrait, watercolor",
        "image": image,
        "strength": 1.0,
        "num_inference_steps": steps,
        "guidance_scale": 0.0,
        "output_type": "pil",
        "generator": torch.Generator("cpu").manual_seed(0),
        "callback_on_step_end": on_step,
    }
    if name == "flux-schnell":
        kwargs.update(height=size, width=size, max_sequence_length=256)
    _sync(device)
    started = time.perf_counter()
    with torch.no_grad():  # as the renderer: quanto's int4 fails under inference_mode
        pipe(**kwargs)
    _sync(device)
    total = time.perf_counter() - started
    gaps = [b - a for a, b in itertools.pairwise(step_ends)]
    return {"total_s": total, "step_s": statistics.median(gaps) if gaps else total}


def measure(
    name: str,
    size: int,
    plan: str,
    quantize: str,
    steps: int,
    runs: int,
    device: str,
    tiny: bool,
    compile_denoiser: bool,
) -> dict[str, Any]:
    dtype = (
        torch.float32
        if device == "cpu"
        else (torch.bfloat16 if name == "flux-schnell" else torch.float16)
    )
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = write_tokenizer(Path(tmp) / "tok")
        tokenizer.model_max_length = 77
        torch.manual_seed(0)
        with torch.device(device if plan in (FULL, "lowmem") else "cpu"):
            pipe = BUILDERS[name](tiny, tokenizer).to(dtype)
    if quantize != "none":
        from photoflux_desktop.engine.diffusion.quantize import quantize_pipeline

        quantize_pipeline(pipe, quantize)
    _place(pipe, plan, device)
    pipe.set_progress_bar_config(disable=True)
    if compile_denoiser:
        (getattr(pipe, "unet", None) or pipe.transformer).compile(mode="max-autotune-no-cudagraphs")
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    _time_one(pipe, name, size, steps, device)  # warm-up (and compile)
    results = [_time_one(pipe, name, size, steps, device) for _ in range(runs)]
    row = {
        "model": name,
        "size": size,
        "plan": plan,
        "quantize": quantize,
        "steps": steps,
        "compiled": compile_denoiser,
        "end_to_end_s": round(statistics.median(r["total_s"] for r in results), 4),
        "per_step_s": round(statistics.median(r["step_s"] for r in results), 4),
    }
    if device.startswith("cuda"):
        row["peak_vram_gb"] = round(torch.cuda.max_memory_allocated() / 1024**3, 2)
    del pipe
    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=list(BUILDERS))
    parser.add_argument("--sizes", nargs="+", type=int, default=[512, 1024])
    parser.add_argument("--plans", nargs="+", default=["full", "offload", "sequential"])
    parser.add_argument("--quantize", nargs="+", default=["none", "int8"])
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="tiny configs on the CPU")
    args = parser.parse_args()
    from photoflux_desktop.engine.diffusion.loader import quiet_libraries

    quiet_libraries()
    device = "cpu" if args.smoke else "cuda"
    if not args.smoke and not torch.cuda.is_available():
        emit("gpu_diffusion", {"skipped": "no CUDA GPU; run with --smoke to check the script"})
        return
    sizes = [64] if args.smoke else args.sizes
    plans = ["full"] if args.smoke else args.plans
    rows, failures = [], []
    for name in args.models:
        for size in sizes:
            for plan in plans:
                for quantize in args.quantize:
                    try:
                        rows.append(
                            measure(
                                name,
                                size,
                                plan,
                                quantize,
                                args.steps,
                                args.runs,
                                device,
                                args.smoke,
                                args.compile,
                            )
                        )
                    except Exception as exc:  # one OOM must not lose the other rows
                        failures.append(
                            {
                                "model": name,
                                "size": size,
                                "plan": plan,
                                "quantize": quantize,
                                "error": str(exc)[:300],
                            }
                        )
                    print(rows[-1] if rows else failures[-1], flush=True)
    gpu = torch.cuda.get_device_name(0) if device == "cuda" else "cpu (smoke)"
    emit(
        "gpu_diffusion",
        {"device": gpu, "torch": torch.__version__, "rows": rows, "failures": failures},
    )


if __name__ == "__main__":
    main()
