"""What the desktop's "Teach a subject" dialog uses, in one module it loads lazily
(engine/lazy.py `training()`): the photo checks need OpenCV and dlib, the device
probe and the trainer need torch, none of which the window may import at start-up."""

from __future__ import annotations

from pathlib import Path

from photoflux_desktop.engine.devices import detect_device
from photoflux_desktop.engine.training.checkpoint import latest_checkpoint
from photoflux_desktop.engine.training.dataset import (
    DEFAULT_TOKEN,
    IDEAL_PHOTOS,
    MIN_PHOTOS,
    DatasetOptions,
    PreparedDataset,
    prepare_dataset,
    write_dataset,
)
from photoflux_desktop.engine.training.events import TrainingEvent, TrainingJob, TrainingOutcome
from photoflux_desktop.engine.training.presets import TrainingPreset, presets_for, with_overrides
from photoflux_desktop.engine.training.trainer import train

__all__ = [
    "DEFAULT_TOKEN",
    "IDEAL_PHOTOS",
    "MIN_PHOTOS",
    "DatasetOptions",
    "PreparedDataset",
    "TrainingEvent",
    "TrainingJob",
    "TrainingOutcome",
    "TrainingPreset",
    "device_presets",
    "prepare_dataset",
    "resumable",
    "train",
    "with_overrides",
    "write_dataset",
]


def device_presets(family: str) -> list[TrainingPreset]:
    """The presets that fit this machine's device, smallest first."""
    return presets_for(detect_device("auto"), family)


def resumable(out_dir: Path) -> bool:
    """A complete checkpoint of an earlier run of this subject exists."""
    return latest_checkpoint(out_dir / "checkpoints") is not None
