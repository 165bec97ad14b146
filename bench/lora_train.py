"""LoRA training speed: PhotoFlux's trainer against a plain reference loop.

The reference is written the way diffusers' `train_dreambooth_lora.py` example trains
(peft LoRA on the UNet's attention projections, AdamW, DDPM noise, MSE on the noise,
accelerate's backward, gradient clipping), on the same micro SD model, the same photos
(cropped, latents and text embeddings computed once for both: the example's
`--pre_compute_text_embeddings`, and the cached latents PhotoFlux always uses), the same
batch, rank and learning rate, in the same benchmark run. Each trainer runs in a fresh
process (so its peak memory is its own); steps/s are measured over the training steps
only (loading, caching and samples excluded), best of `--rounds` alternating rounds,
and `ratio` = PhotoFlux's seconds per step / the reference's (target <= 1.10). Peak
memory: the process's resident memory above its level before the run (model loading
included; sampled every 5 ms) on CPU, `torch.cuda.max_memory_allocated` on a GPU; the
smaller of the rounds. Also reported: the median ratio, the ratio of CPU time per step
(process time: steadier than wall time on a shared machine) and the 1-minute load
average before and after. On a loaded machine, wall time with several torch threads
swings 20x from round to round (threads wait on each other when one is descheduled);
`--threads 1` measures the work itself.

    python -m bench.lora_train [--steps 30] [--batch 1] [--rounds 5] [--resolution 64] [--threads 0]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import torch
from PIL import Image

from bench._util import emit
from photoflux_desktop.engine.devices import detect_device
from photoflux_desktop.engine.training.augment import AugmentOptions
from photoflux_desktop.engine.training.dataset import DatasetOptions, prepare_dataset
from photoflux_desktop.engine.training.events import TrainingEvent, TrainingJob
from photoflux_desktop.engine.training.family_ops import LORA_TARGETS
from photoflux_desktop.engine.training.presets import choose_preset, with_overrides
from photoflux_desktop.engine.training.tiny import build_micro_pipeline
from photoflux_desktop.engine.training.trainer import train

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
RANK, LR = 4, 1e-3


class PeakMemory:
    """Peak resident memory (CPU) or allocated VRAM (CUDA) above the start, in MB."""

    def __init__(self, cuda: bool) -> None:
        self.cuda = cuda

    def __enter__(self) -> PeakMemory:
        if self.cuda:
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
            return self
        self.process = psutil.Process()
        self.base = self.peak = self.process.memory_info().rss
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.005)

    def __exit__(self, *exc: object) -> None:
        if self.cuda:
            self.mb = round((torch.cuda.max_memory_allocated() - self.base) / 2**20, 1)
        else:
            self.running = False
            self.thread.join()
            self.mb = round((self.peak - self.base) / 2**20, 1)


def photos(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with Image.open(DATA / "astronaut.png") as im:
        portrait = im.convert("RGB")
    for index, box in enumerate(((0, 0, 400, 400), (50, 20, 450, 420))):
        crop = portrait.crop(box)
        crop.save(folder / f"front-{index}.png")
        crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(folder / f"mirror-{index}.png")
    return folder


def run_photoflux(model: Path, dataset: Any, args: argparse.Namespace, out: Path) -> dict:
    device = detect_device("auto")
    preset = with_overrides(
        choose_preset(device, "sd"),
        steps=args.steps,
        rank=RANK,
        batch=args.batch,
        grad_accum=1,
        resolution=args.resolution,
        learning_rate=LR,
    )
    stamps: list[tuple[float, float]] = []

    def on_event(event: TrainingEvent) -> None:
        if event.stage == "training":
            stamps.append((time.perf_counter(), time.process_time()))

    job = TrainingJob(
        model=str(model), dataset=dataset, out_dir=out, name="bench", preset=preset,
        checkpoint_every=0, sample_steps=1, install=False,
    )  # fmt: skip
    with PeakMemory(device.kind == "cuda") as memory:
        train(job, on_event)
    steps = len(stamps) - 1
    return {
        "s_per_step": (stamps[-1][0] - stamps[0][0]) / steps,
        "cpu_s_per_step": (stamps[-1][1] - stamps[0][1]) / steps,
        "peak_mb": memory.mb,
    }


def run_reference(model: Path, dataset: Any, args: argparse.Namespace) -> dict:
    """The diffusers example's loop, pared to what both runs share."""
    import numpy as np
    from accelerate import Accelerator
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from peft import LoraConfig
    from transformers import CLIPTextModel, CLIPTokenizer

    accelerator = Accelerator(mixed_precision="no")
    device = accelerator.device
    cuda = device.type == "cuda"
    with PeakMemory(cuda) as memory:
        tokenizer = CLIPTokenizer.from_pretrained(model, subfolder="tokenizer")
        text_encoder = CLIPTextModel.from_pretrained(model, subfolder="text_encoder").to(device)
        vae = AutoencoderKL.from_pretrained(model, subfolder="vae").to(device)
        unet = UNet2DConditionModel.from_pretrained(model, subfolder="unet").to(device)
        noise_scheduler = DDPMScheduler.from_pretrained(model, subfolder="scheduler")
        for frozen in (text_encoder, vae, unet):
            frozen.requires_grad_(False)
        unet.add_adapter(
            LoraConfig(r=RANK, lora_alpha=RANK, init_lora_weights="gaussian",
                       target_modules=LORA_TARGETS["unet"])
        )  # fmt: skip
        params = [p for p in unet.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=LR, betas=(0.9, 0.999), weight_decay=1e-2)
        unet, optimizer = accelerator.prepare(unet, optimizer)
        with torch.no_grad():
            ids = tokenizer(
                [item.caption for item in dataset.items], padding="max_length",
                max_length=tokenizer.model_max_length, truncation=True, return_tensors="pt",
            ).input_ids.to(device)  # fmt: skip
            embeds = text_encoder(ids)[0]
            pixels = torch.stack([
                torch.from_numpy(np.asarray(item.image, np.float32) / 127.5 - 1).permute(2, 0, 1)
                for item in dataset.items
            ]).to(device)  # fmt: skip
            latents_all = vae.encode(pixels).latent_dist.sample() * vae.config.scaling_factor
        unet.train()
        count = latents_all.shape[0]
        times, cpu_times = [], []
        for step in range(args.steps):
            started, cpu_started = time.perf_counter(), time.process_time()
            index = torch.randint(0, count, (args.batch,))
            latents, hidden = latents_all[index], embeds[index]
            noise = torch.randn_like(latents)
            timesteps = torch.randint(
                0, noise_scheduler.config.num_train_timesteps, (args.batch,), device=device
            )
            noisy = noise_scheduler.add_noise(latents, noise, timesteps)
            pred = unet(noisy, timesteps, hidden, return_dict=False)[0]
            loss = torch.nn.functional.mse_loss(pred.float(), noise.float(), reduction="mean")
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(params, 1.0)
            optimizer.step()
            optimizer.zero_grad()
            loss.item()  # the example logs the loss every step
            if step:  # the first step warms up
                times.append(time.perf_counter() - started)
                cpu_times.append(time.process_time() - cpu_started)
    return {
        "s_per_step": sum(times) / len(times),
        "cpu_s_per_step": sum(cpu_times) / len(cpu_times),
        "peak_mb": memory.mb,
    }


def one_run(args: argparse.Namespace) -> None:
    """One trainer in this (fresh) process: its peak memory is its own."""
    if args.threads:
        torch.set_num_threads(args.threads)
    root = Path(args.root)
    options = DatasetOptions(resolution=args.resolution, augment=AugmentOptions(variants=1))
    dataset = prepare_dataset(root / "photos", options)
    model = root / "micro-sd"
    if args.only == "reference":
        result = run_reference(model, dataset, args)
    else:
        result = run_photoflux(model, dataset, args, root / f"run-{time.monotonic_ns()}")
    sys.stdout.write(json.dumps(result) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--only", choices=["photoflux", "reference"], help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:
        one_run(args)
        return
    ours, theirs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build_micro_pipeline("sd", root / "micro-sd")
        photos(root / "photos")
        common = ["--steps", str(args.steps), "--batch", str(args.batch),
                  "--threads", str(args.threads), "--resolution", str(args.resolution),
                  "--root", str(root)]  # fmt: skip
        load_before = os.getloadavg()
        for _ in range(args.rounds):  # alternating, each in a fresh process
            for name, results in (("reference", theirs), ("photoflux", ours)):
                done = subprocess.run(
                    [sys.executable, "-m", "bench.lora_train", "--only", name, *common],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    load_after = os.getloadavg()
    best_ours = min(r["s_per_step"] for r in ours)
    best_theirs = min(r["s_per_step"] for r in theirs)
    median_ours = statistics.median(r["s_per_step"] for r in ours)
    median_theirs = statistics.median(r["s_per_step"] for r in theirs)
    cpu_ours = statistics.median(r["cpu_s_per_step"] for r in ours)
    cpu_theirs = statistics.median(r["cpu_s_per_step"] for r in theirs)
    emit(
        "lora_train",
        {
            "model": "micro SD (UNet 16/32 channels, 8x VAE)",
            "resolution": args.resolution,
            "batch": args.batch,
            "rank": RANK,
            "steps": args.steps,
            "threads": args.threads or torch.get_num_threads(),
            "load_average_1m": [round(load_before[0], 2), round(load_after[0], 2)],
            "photoflux_steps_per_s": round(1 / best_ours, 3),
            "reference_steps_per_s": round(1 / best_theirs, 3),
            "ratio": round(best_ours / best_theirs, 3),
            "median_ratio": round(median_ours / median_theirs, 3),
            "cpu_time_ratio": round(cpu_ours / cpu_theirs, 3),
            "target_ratio": 1.10,
            "photoflux_peak_mb": min(r["peak_mb"] for r in ours),
            "reference_peak_mb": min(r["peak_mb"] for r in theirs),
            "rounds": {"photoflux": ours, "reference": theirs},
        },
    )


if __name__ == "__main__":
    main()
