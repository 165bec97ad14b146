"""Engine overhead: one pipeline called directly through diffusers vs through PhotoFlux.

Both sides use the same loaded pipeline, image, size, steps, strength and seed; the
engine side goes through the full DiffusionRenderer (device detection, plan choice,
cache lookup, per-job scheduler, step callback, our own decode and resize). Previews
are measured separately because diffusers alone produces none.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image

from bench._util import emit
from photoflux_desktop.engine.diffusion.cache import PipelineCache
from photoflux_desktop.engine.diffusion.loader import quiet_libraries
from photoflux_desktop.engine.diffusion.renderer import DiffusionRenderer
from photoflux_desktop.engine.diffusion.tiny_models import write_tokenizer
from photoflux_desktop.engine.model_store import LocatedModel
from photoflux_desktop.engine.presets import get_preset
from photoflux_desktop.engine.request import RenderRequest
from photoflux_desktop.engine.resources import sample_photo


def build_small_sd(folder: Path) -> Path:
    """A small (not tiny) SD so that compute, not bookkeeping, dominates a step."""
    from diffusers import (
        AutoencoderKL,
        EulerAncestralDiscreteScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    tokenizer = write_tokenizer(folder / "tokenizer")
    eos = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    text = CLIPTextModel(
        CLIPTextConfig(
            hidden_size=128,
            intermediate_size=256,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=1000,
            bos_token_id=eos - 1,
            eos_token_id=eos,
            pad_token_id=eos,
        )
    )
    unet = UNet2DConditionModel(
        block_out_channels=(64, 128, 128),
        layers_per_block=1,
        sample_size=32,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=128,
        attention_head_dim=8,
    )
    vae = AutoencoderKL(
        block_out_channels=(32, 64),
        latent_channels=4,
        layers_per_block=1,
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
    )
    pipe = StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text,
        tokenizer=tokenizer,
        scheduler=EulerAncestralDiscreteScheduler(timestep_spacing="trailing", steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=8)
    args = parser.parse_args()
    quiet_libraries()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    with tempfile.TemporaryDirectory() as tmp:
        folder = build_small_sd(Path(tmp) / "small-sd")
        photo = Image.open(sample_photo()).convert("RGB").resize((args.size, args.size))
        located = LocatedModel(str(folder), folder, "sd", None, "path")
        renderer = DiffusionRenderer(PipelineCache(budget_bytes=2**32))
        preset = get_preset("comic")

        def engine(previews: bool) -> None:
            renderer.render(
                RenderRequest(
                    image=photo,
                    style_id="comic",
                    model=str(folder),
                    steps=args.steps,
                    strength=1.0,
                    seed=3,
                    max_side=args.size,
                    previews=previews,
                ),
                preset,
                located,
            )

        engine(False)  # loads and caches the pipeline
        pipe = next(iter(renderer.cache._entries.values()))[0]
        prompt = preset.render_prompt("")

        def direct() -> None:
            pipe(
                prompt=prompt,
                image=photo,
                strength=1.0,
                num_inference_steps=args.steps,
                guidance_scale=0.0,
                generator=torch.Generator("cpu").manual_seed(3),
                output_type="pil",
            )

        timings: dict[str, list[float]] = {"diffusers": [], "engine": [], "engine_previews": []}
        calls = {
            "diffusers": direct,
            "engine": lambda: engine(False),
            "engine_previews": lambda: engine(True),
        }
        direct()
        for _ in range(args.runs):  # interleaved so drift hits every side alike
            for name, call in calls.items():
                started = time.perf_counter()
                call()
                timings[name].append(time.perf_counter() - started)
    med = {name: statistics.median(values) for name, values in timings.items()}
    emit(
        "engine_overhead",
        {
            "size_px": args.size,
            "steps": args.steps,
            "runs": args.runs,
            "median_s": {name: round(value, 4) for name, value in med.items()},
            "engine_overhead_pct": round((med["engine"] / med["diffusers"] - 1) * 100, 2),
            "engine_with_previews_overhead_pct": round(
                (med["engine_previews"] / med["diffusers"] - 1) * 100, 2
            ),
            "target_pct": 5.0,
        },
    )


if __name__ == "__main__":
    main()
