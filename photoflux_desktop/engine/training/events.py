"""Plain-data job, progress events and outcome of a training run (no torch here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from photoflux_desktop.engine.training.adapters import AdapterInfo
from photoflux_desktop.engine.training.dataset import PreparedDataset
from photoflux_desktop.engine.training.presets import TrainingPreset


@dataclass(frozen=True, eq=False)
class TrainingJob:
    model: str  # catalog id or diffusers folder
    dataset: PreparedDataset
    out_dir: Path  # the run's folder: checkpoints/, samples/, dataset/, NAME.safetensors
    name: str  # the adapter's name in the library
    preset: TrainingPreset
    seed: int = 0
    checkpoint_every: int = 100  # steps; a cancel also writes one
    sample_every: int = 0  # steps; 0 = one sample set at the end only
    sample_prompts: tuple[str, ...] = ()  # default: the captions' template and a style
    sample_steps: int | None = None  # denoising steps per sample (default per family)
    resume: bool = False
    device: str = "auto"
    install: bool = True  # copy the adapter into the library when done
    models_dir: Path | None = None


@dataclass(frozen=True, eq=False)
class TrainingEvent:
    stage: str  # "loading", "caching", "training", "sample", "checkpoint", "saving", "done"
    step: int = 0
    total: int = 0
    loss: float | None = None
    steps_per_s: float | None = None
    eta_s: float | None = None  # time left, from the measured speed
    sample: Path | None = None  # a sample image written at this step
    message: str = ""

    def line(self) -> str:
        parts = [f"{self.stage} {self.step}/{self.total}"]
        if self.loss is not None:
            parts.append(f"loss {self.loss:.4f}")
        if self.steps_per_s:
            parts.append(f"{self.steps_per_s:.2f} steps/s")
        if self.eta_s is not None:
            minutes, seconds = divmod(round(self.eta_s), 60)
            parts.append(f"{minutes}:{seconds:02d} left")
        if self.sample is not None:
            parts.append(str(self.sample))
        if self.message:
            parts.append(self.message)
        return "  ".join(parts)


EventCallback = Callable[[TrainingEvent], None]


def ignore_events(event: TrainingEvent) -> None:
    pass


@dataclass(frozen=True, eq=False)
class TrainingOutcome:
    status: str  # "done" or "cancelled"
    step: int
    total: int
    losses: list[float]
    adapter: AdapterInfo | None  # the installed adapter ("done" only)
    adapter_file: Path | None  # the run folder's copy
    checkpoint: Path | None  # the latest checkpoint (resume from it)
    samples: list[Path] = field(default_factory=list)
    resumed_from: int | None = None
    elapsed_s: float = 0.0
    steps_per_s: float | None = None
    device: str = ""
    # the loss on the photos at fixed draws, when this run started and when it finished
    eval_loss: tuple[float | None, float | None] = (None, None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "step": self.step,
            "total": self.total,
            "losses": [round(x, 6) for x in self.losses],
            "adapter": self.adapter.to_dict() if self.adapter else None,
            "adapter_file": str(self.adapter_file) if self.adapter_file else None,
            "checkpoint": str(self.checkpoint) if self.checkpoint else None,
            "samples": [str(p) for p in self.samples],
            "resumed_from": self.resumed_from,
            "elapsed_s": round(self.elapsed_s, 3),
            "steps_per_s": round(self.steps_per_s, 4) if self.steps_per_s else None,
            "device": self.device,
            "eval_loss": {"start": _rounded(self.eval_loss[0]), "end": _rounded(self.eval_loss[1])},
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
