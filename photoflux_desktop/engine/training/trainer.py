"""The LoRA training loop: peft on the denoiser, accelerate for precision and devices.

One step = `grad_accum` micro-batches of `batch` cached latents, then one optimizer
step. Which photos, which augmented variant, which noise and which timesteps a
micro-batch uses are drawn from generators seeded by (seed, step, micro-batch), so a
run resumed from a checkpoint repeats the uninterrupted run's draws exactly. Cancel
is looked at before every micro-batch: a cancelled run writes a checkpoint of its
last finished step and returns status "cancelled".
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from photoflux_desktop.engine.devices import detect_device
from photoflux_desktop.engine.errors import bad_input
from photoflux_desktop.engine.model_store import LocatedModel, locate
from photoflux_desktop.engine.request import CancelToken
from photoflux_desktop.engine.training import adapters, augment, checkpoint, family_ops
from photoflux_desktop.engine.training.events import (
    EventCallback,
    TrainingEvent,
    TrainingJob,
    TrainingOutcome,
    ignore_events,
)

EVAL_DRAWS = 2  # noise draws per photo for the before/after loss
STYLE_PROMPT = "{token} {class_word} as an oil painting"


def train(
    job: TrainingJob, on_event: EventCallback = ignore_events, cancel: CancelToken | None = None
) -> TrainingOutcome:
    return _Run(job, on_event, cancel or CancelToken()).run()


def fingerprint(job: TrainingJob, located: LocatedModel) -> str:
    """What a checkpoint must match to be continued: the model, the data, the settings
    that shape the draws (total steps may change on resume)."""
    preset = {k: v for k, v in asdict(job.preset).items() if k not in ("steps", "name")}
    preset.pop("seconds_per_step", None)
    data = [(item.caption, np.asarray(item.image).tobytes()) for item in job.dataset.items]
    digest = hashlib.sha256()
    for caption, pixels in data:
        digest.update(caption.encode("utf-8"))
        digest.update(hashlib.sha256(pixels).digest())
    payload = {
        "model": str(located.path.resolve()),
        "preset": preset,
        "seed": job.seed,
        "augment": job.dataset.options.augment.to_dict(),
        "data": digest.hexdigest(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def draw(seed: int, *parts: int) -> torch.Generator:
    """A CPU generator for one draw, seeded by its place in the run."""
    key = seed
    for part in parts:
        key = (key * 1_000_003 + part) % (2**63 - 1)
    return torch.Generator().manual_seed(key)


class _Run:
    def __init__(self, job: TrainingJob, on_event: EventCallback, cancel: CancelToken) -> None:
        self.job = job
        self.emit = on_event
        self.cancel = cancel
        self.preset = job.preset
        self.total = job.preset.steps
        self.checkpoints = job.out_dir / "checkpoints"
        self.samples: list[Path] = []
        self.losses: list[float] = []

    # ---- set-up -------------------------------------------------------------------------
    def run(self) -> TrainingOutcome:
        started = time.perf_counter()
        self.located = locate(self.job.model, self.job.models_dir)
        if self.located.family != self.preset.family:
            raise bad_input(
                f"The preset is for {self.preset.family.upper()}, the model is "
                f"{self.located.family.upper()}.",
                "Choose the preset for this model's family.",
            )
        self.device_info = detect_device(self.job.device)
        self.fingerprint = fingerprint(self.job, self.located)
        resume = self._resume_point()
        self.job.out_dir.mkdir(parents=True, exist_ok=True)
        self._load()
        self._cache()
        self._attach_lora()
        start = 0
        if resume is not None:
            lora_state = checkpoint.load_checkpoint(resume, self.optimizer)
            self._set_lora_state(lora_state)
            start, self.losses = resume.step, list(resume.losses)
        self.eval_start = self.eval_loss()
        status = self._loop(start)
        self.eval_end = self.eval_loss() if status == "done" else None
        elapsed = time.perf_counter() - started
        return self._finish(status, start if resume else None, elapsed)

    def _resume_point(self) -> checkpoint.Checkpoint | None:
        latest = checkpoint.latest_checkpoint(self.checkpoints)
        if latest is None:
            if self.job.resume:
                raise bad_input(
                    f"There is no checkpoint in {self.checkpoints} to resume from.",
                    "Leave out --resume to start a new run.",
                )
            return None
        if not self.job.resume:
            raise bad_input(
                f"{self.job.out_dir} already holds a run (checkpoint at step {latest.step}).",
                "Add --resume to continue it, or choose a new --out folder.",
            )
        if latest.fingerprint != self.fingerprint:
            raise bad_input(
                f"The checkpoint in {self.checkpoints} was made with other photos, "
                "captions, model or settings.",
                "Resume with the same inputs, or choose a new --out folder.",
            )
        return latest

    def _load(self) -> None:
        import diffusers

        from photoflux_desktop.engine.diffusion.loader import quiet_libraries

        quiet_libraries()
        self.emit(TrainingEvent("loading", 0, self.total, message=self.located.label))
        cuda = self.device_info.kind == "cuda"
        self.weight_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(
            self.preset.mixed_precision, torch.float32
        )
        self.device = torch.device(self.device_info.torch_device if cuda else "cpu")
        cls = getattr(diffusers, family_ops.PIPELINES[self.located.family])
        kwargs: dict[str, Any] = {"dtype": self.weight_dtype, "local_files_only": True}
        if self.located.family == "sd":
            kwargs.update(safety_checker=None, requires_safety_checker=False)
        pipe = cls.from_pretrained(str(self.located.path), **kwargs)
        pipe.set_progress_bar_config(disable=True)
        pipe.to(self.device)
        if pipe.vae.dtype == torch.float16:
            pipe.vae.to(torch.float32)  # fp16 VAEs overflow to NaN when encoding
        self.pipe = pipe
        self.ops = family_ops.OPS[self.located.family](pipe, self.device, self.weight_dtype)

    # ---- cached inputs ------------------------------------------------------------------
    def _cache(self) -> None:
        """Latents of every variant and features of every caption, computed once."""
        options = self.job.dataset.options
        items = self.job.dataset.items
        self.latents: list[list[torch.Tensor]] = []
        for index, item in enumerate(items):
            self.emit(
                TrainingEvent("caching", index + 1, len(items), message=Path(item.source).name)
            )
            pictures = augment.variants(item.image, options.augment, self.job.seed * 7919 + index)
            self.latents.append(
                [
                    self.ops.encode_image(_pixels(p), draw(self.job.seed, 1, index, v))
                    for v, p in enumerate(pictures)
                ]
            )
        captions = sorted({item.caption for item in items})
        self.prompt_of = {c: self.ops.encode_prompt(c) for c in captions}
        self.captions = [item.caption for item in items]
        prompts = self.job.sample_prompts or (
            options.default_caption(),
            STYLE_PROMPT.format(token=options.token, class_word=options.class_word),
        )
        self.sample_prompts = [(text, self.ops.encode_prompt(text)) for text in prompts]
        self.negative = self.ops.encode_prompt("")
        if self.preset.offload:  # every prompt is cached: the text encoders can go
            for name in ("text_encoder", "text_encoder_2"):
                if getattr(self.pipe, name, None) is not None:
                    setattr(self.pipe, name, None)
            if self.device.type == "cuda":
                torch.cuda.empty_cache()

    # ---- the adapter --------------------------------------------------------------------
    def _attach_lora(self) -> None:
        from peft import LoraConfig

        denoiser = self.ops.denoiser
        denoiser.requires_grad_(False)
        if self.preset.quantize_base == "int8":
            from optimum.quanto import freeze, qint8, quantize

            quantize(denoiser, weights=qint8)
            freeze(denoiser)
        torch.manual_seed(self.job.seed)  # the LoRA's initial A matrices
        config = LoraConfig(
            r=self.preset.rank,
            lora_alpha=self.preset.rank,  # scale 1: adapters load the same everywhere
            init_lora_weights="gaussian",
            target_modules=family_ops.LORA_TARGETS[self.ops.denoiser_name],
        )
        denoiser.add_adapter(config)
        self.params = [p for p in denoiser.parameters() if p.requires_grad]
        for param in self.params:
            param.data = param.data.float()  # trained in fp32 under fp16/bf16 autocast
        if self.preset.gradient_checkpointing:
            denoiser.enable_gradient_checkpointing()
        self.accelerator = _accelerator(self.preset.mixed_precision, self.device.type == "cpu")
        self.ops.prepare()
        optimizer = self._optimizer()
        prepared, self.optimizer = self.accelerator.prepare(denoiser, optimizer)
        setattr(self.pipe, self.ops.denoiser_name, prepared)

    def _optimizer(self) -> torch.optim.Optimizer:
        lr = self.preset.learning_rate
        if self.preset.optimizer == "adamw8bit":
            import bitsandbytes

            return bitsandbytes.optim.AdamW8bit(self.params, lr=lr, weight_decay=1e-2)
        return torch.optim.AdamW(self.params, lr=lr, weight_decay=1e-2)

    def lora_state(self) -> dict[str, torch.Tensor]:
        from peft.utils import get_peft_model_state_dict

        return get_peft_model_state_dict(self.accelerator.unwrap_model(self.ops.denoiser))

    def _set_lora_state(self, state: dict[str, torch.Tensor]) -> None:
        from peft.utils import set_peft_model_state_dict

        denoiser = self.accelerator.unwrap_model(self.ops.denoiser)
        result = set_peft_model_state_dict(denoiser, state)
        if getattr(result, "unexpected_keys", None):
            raise bad_input("The checkpoint's LoRA does not match this model.")

    # ---- the loop -----------------------------------------------------------------------
    def _loop(self, start: int) -> str:
        denoiser = self.ops.denoiser
        denoiser.train()
        started = time.perf_counter()
        for done, step in enumerate(range(start, self.total), start=1):
            total_loss = 0.0
            for micro in range(self.preset.grad_accum):
                if self.cancel.cancelled:
                    self._checkpoint(step)
                    return "cancelled"
                latents, prompts = self._micro_batch(step, micro)
                with self.accelerator.autocast():
                    loss = self.ops.loss(latents, prompts, draw(self.job.seed, 2, step, micro))
                self.accelerator.backward(loss / self.preset.grad_accum)
                total_loss += float(loss.detach()) / self.preset.grad_accum
            self.accelerator.clip_grad_norm_(self.params, 1.0)
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            self.losses.append(total_loss)
            speed = done / (time.perf_counter() - started)
            left = (self.total - step - 1) / speed
            self.emit(TrainingEvent("training", step + 1, self.total, total_loss, speed, left))
            self._after_step(step + 1)
        return "done"

    @torch.no_grad()
    def eval_loss(self) -> float:
        """The loss on every photo (plain crop) at fixed noise and timesteps: the same
        draws before and after, so unlike the training loss it shows learning."""
        self.ops.denoiser.eval()
        total = 0.0
        for index, variants in enumerate(self.latents):
            prompt = self.prompt_of[self.captions[index]]
            for repeat in range(EVAL_DRAWS):
                with self.accelerator.autocast():
                    loss = self.ops.loss(
                        variants[0], [prompt], draw(self.job.seed, 5, index, repeat)
                    )
                total += float(loss)
        self.ops.denoiser.train()
        return total / (len(self.latents) * EVAL_DRAWS)

    def _micro_batch(self, step: int, micro: int) -> tuple[torch.Tensor, list[Any]]:
        """Photo k of the run is photo perm(epoch)[k mod n]; its variant is drawn."""
        n, batch = len(self.latents), self.preset.batch
        first = (step * self.preset.grad_accum + micro) * batch
        picked, prompts = [], []
        for k in range(first, first + batch):
            epoch, position = divmod(k, n)
            order = torch.randperm(n, generator=draw(self.job.seed, 3, epoch))
            index = int(order[position])
            variants = self.latents[index]
            choice = int(torch.randint(len(variants), (1,), generator=draw(self.job.seed, 4, k)))
            picked.append(variants[choice])
            prompts.append(self.prompt_of[self.captions[index]])
        return torch.cat(picked), prompts

    def _after_step(self, step: int) -> None:
        every = self.job.checkpoint_every
        if every and step % every == 0 and step < self.total:
            self._checkpoint(step)
        if self.job.sample_every and step % self.job.sample_every == 0 and step < self.total:
            self._sample(step)

    def _checkpoint(self, step: int) -> None:
        if step == 0 and not self.losses:
            return  # nothing learnt yet: a resume would start from scratch anyway
        folder = checkpoint.save_checkpoint(
            self.checkpoints,
            step,
            lora_state=self.lora_state(),
            optimizer=self.optimizer,
            losses=self.losses,
            fingerprint=self.fingerprint,
        )
        self.emit(TrainingEvent("checkpoint", step, self.total, message=str(folder)))

    def _sample(self, step: int) -> list[Any]:
        from photoflux_desktop.engine.training.sampling import render_samples

        folder = self.job.out_dir / "samples"
        images = render_samples(self, step, folder)
        for path, _ in images:
            self.samples.append(path)
            self.emit(TrainingEvent("sample", step, self.total, sample=path))
        self.ops.denoiser.train()
        return images

    # ---- the result ---------------------------------------------------------------------
    def _finish(self, status: str, resumed_from: int | None, elapsed: float) -> TrainingOutcome:
        latest = checkpoint.latest_checkpoint(self.checkpoints)
        speed = None
        trained = len(self.losses) - (resumed_from or 0)
        if trained > 0 and elapsed > 0:
            speed = trained / elapsed
        common = {
            "total": self.total,
            "losses": self.losses,
            "samples": self.samples,
            "resumed_from": resumed_from,
            "elapsed_s": elapsed,
            "steps_per_s": speed,
            "device": self.device_info.name,
            "eval_loss": (self.eval_start, self.eval_end),
        }
        if status == "cancelled":
            step = latest.step if latest else 0
            return TrainingOutcome(
                "cancelled", step, adapter=None, adapter_file=None,
                checkpoint=latest.folder if latest else None, **common,
            )  # fmt: skip
        self.emit(TrainingEvent("saving", self.total, self.total))
        images = self._sample(self.total)
        info, file = self._save_adapter(images[0][1] if images else None)
        self.emit(TrainingEvent("done", self.total, self.total, message=str(file)))
        return TrainingOutcome(
            "done", self.total, adapter=info, adapter_file=file,
            checkpoint=latest.folder if latest else None, **common,
        )  # fmt: skip

    def _save_adapter(self, sample: Any) -> tuple[adapters.AdapterInfo | None, Path]:
        from diffusers.utils import convert_state_dict_to_diffusers
        from safetensors.torch import save_file

        family = self.located.family
        saved_dtype = torch.bfloat16 if family == "flux" else torch.float16
        prefix = self.ops.denoiser_name
        layers = self.lora_state()
        if family != "flux":  # UNet LoRAs in diffusers' naming, as its SD examples save them
            layers = convert_state_dict_to_diffusers(layers)
        tensors = {
            f"{prefix}.{key}": value.detach().to("cpu", saved_dtype).contiguous()
            for key, value in layers.items()
        }
        options = self.job.dataset.options
        info = adapters.AdapterInfo(
            name=self.job.name,
            path="",
            family=family,
            base_model=_base_label(self.located),
            token=options.token,
            class_word=options.class_word,
            steps=self.total,
            rank=self.preset.rank,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            licence=_licence(self.located),
            sample=None,
        )
        file = self.job.out_dir / f"{self.job.name}.safetensors"
        save_file(tensors, str(file), metadata=adapters.adapter_metadata(info, sample))
        if sample is not None:
            sample.save(file.with_suffix(".png"))
        if not self.job.install:
            return adapters.read_adapter(file), file
        target = adapters.adapter_path(self.job.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, target)
        if sample is not None:
            shutil.copyfile(file.with_suffix(".png"), target.with_suffix(".png"))
        return adapters.read_adapter(target), file


def _accelerator(precision: str, cpu: bool) -> Any:
    """accelerate keeps one process-wide state; a second run in the same process (the
    desktop app, the cloud worker) may need another precision, so start it afresh."""
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()
    return Accelerator(mixed_precision=precision, cpu=cpu)


def _base_label(located: LocatedModel) -> str:
    return located.spec.id if located.spec else str(located.path.resolve())


def _licence(located: LocatedModel) -> str:
    """An adapter inherits its base model's licence (a FLUX.1 [dev] LoRA is
    non-commercial like dev; a [schnell] one stays Apache-2.0)."""
    if located.spec is not None:
        return located.spec.licence
    return "the base model's licence"


def _pixels(image: Any) -> torch.Tensor:
    array = torch.from_numpy(np.asarray(image.convert("RGB"), dtype=np.float32))
    return (array / 127.5 - 1.0).permute(2, 0, 1).unsqueeze(0)
