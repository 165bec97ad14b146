"""Sample pictures during training: fixed prompts and seed, so steps compare."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from PIL import Image

from photoflux_desktop.engine.training import family_ops

SAMPLE_SEED = 1234


@torch.no_grad()
def render_samples(run: Any, step: int, folder: Path) -> list[tuple[Path, Image.Image]]:
    """One image per sample prompt with the LoRA as trained so far."""
    folder.mkdir(parents=True, exist_ok=True)
    run.ops.denoiser.eval()
    family = run.located.family
    default_steps, guidance = family_ops.SAMPLING[family]
    spec = run.located.spec
    if spec is not None:
        default_steps, guidance = spec.steps * 2 if family != "flux" else spec.steps, spec.guidance
    steps = run.job.sample_steps or default_steps
    side = run.preset.resolution
    out: list[tuple[Path, Image.Image]] = []
    for index, (_, prompt) in enumerate(run.sample_prompts):
        generator = torch.Generator("cpu").manual_seed(SAMPLE_SEED + index)
        with run.accelerator.autocast():
            image = run.pipe(
                **run.ops.sample_kwargs(prompt, run.negative, guidance),
                num_inference_steps=steps,
                height=side,
                width=side,
                generator=generator,
                output_type="pil",
            ).images[0]
        path = folder / f"step-{step:06d}-{index}.png"
        image.save(path)
        out.append((path, image))
    return out
