"""Training checkpoints: everything needed to continue as if never stopped.

A checkpoint is a folder `step-NNNNNN` holding the LoRA weights (float32, exactly as
trained), the optimizer state, the RNG states and `state.json` (step, loss history,
the run's fingerprint). It is written under a temporary name and renamed when
complete, so a crash mid-write leaves the previous checkpoint as the latest. Data
order, noise and timesteps are functions of (seed, step), so with these the resumed
run draws what the uninterrupted one would have.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

KEEP = 2  # older checkpoints are deleted once a newer one is complete


@dataclass
class Checkpoint:
    step: int
    losses: list[float]
    fingerprint: str
    folder: Path


def save_checkpoint(
    root: Path,
    step: int,
    *,
    lora_state: dict[str, torch.Tensor],
    optimizer: Any,
    losses: list[float],
    fingerprint: str,
) -> Path:
    from safetensors.torch import save_file

    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step-{step:06d}"
    partial = root / f".partial-{step:06d}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in lora_state.items()}
    save_file(tensors, str(partial / "lora.safetensors"))
    torch.save(optimizer.state_dict(), partial / "optimizer.pt")
    rng = {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }
    torch.save(rng, partial / "rng.pt")
    state = {"step": step, "losses": losses, "fingerprint": fingerprint}
    (partial / "state.json").write_text(json.dumps(state), encoding="utf-8")
    shutil.rmtree(final, ignore_errors=True)
    partial.rename(final)
    for old in sorted(root.glob("step-*"))[:-KEEP]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(root: Path) -> Checkpoint | None:
    for folder in sorted(root.glob("step-*"), reverse=True):
        try:
            state = json.loads((folder / "state.json").read_text("utf-8"))
        except (OSError, ValueError):
            continue  # not complete: try the one before
        return Checkpoint(int(state["step"]), list(state["losses"]), state["fingerprint"], folder)
    return None


def load_checkpoint(checkpoint: Checkpoint, optimizer: Any) -> dict[str, torch.Tensor]:
    """Restores the optimizer and RNG states; returns the LoRA weights to set."""
    from safetensors.torch import load_file

    folder = checkpoint.folder
    optimizer.load_state_dict(torch.load(folder / "optimizer.pt", weights_only=True))
    rng = torch.load(folder / "rng.pt", weights_only=False)  # our own file: numpy state
    torch.set_rng_state(rng["torch"])
    if rng["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    np.random.set_state(rng["numpy"])
    random.setstate(rng["python"])
    return load_file(str(folder / "lora.safetensors"))
