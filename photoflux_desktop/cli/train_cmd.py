"""`photoflux train` and `photoflux adapters`: teach a subject, list what was taught.

Progress goes to stderr in both modes (stdout stays one JSON object with --json).
The first Ctrl+C cancels within a step and leaves a checkpoint (exit 130); the same
command with --resume continues from it.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from photoflux_desktop.cli.console import Console
from photoflux_desktop.engine.errors import (
    Error,
    ErrorKind,
    PhotoFluxError,
    model_missing,
    out_of_memory,
)
from photoflux_desktop.engine.model_store import first_installed, locate
from photoflux_desktop.engine.request import CancelToken
from photoflux_desktop.engine.training import adapters
from photoflux_desktop.engine.training.augment import AugmentOptions
from photoflux_desktop.engine.training.dataset import (
    DatasetOptions,
    PreparedDataset,
    prepare_dataset,
    require_enough,
    write_dataset,
)
from photoflux_desktop.engine.training.events import TrainingEvent, TrainingJob
from photoflux_desktop.engine.training.presets import (
    TrainingPreset,
    choose_preset,
    with_overrides,
)


def run_adapters(args: argparse.Namespace, console: Console) -> int:
    found = adapters.list_adapters()
    lines = [
        f"{a.name:<20} {a.family:<5} {a.trigger:<24} {a.steps:>6} steps  {a.base_model}  "
        f"{a.created}"
        for a in found
    ] or [f"No adapters yet in {adapters.library_dir()}; train one with `photoflux train`."]
    payload = {"adapters": [a.to_dict() for a in found], "folder": str(adapters.library_dir())}
    console.result(payload, "\n".join(lines))
    return 0


def run_train(args: argparse.Namespace, console: Console) -> int:
    out_dir = Path(args.out).expanduser()
    name = adapters.check_name(args.name or out_dir.resolve().name)
    model_ref = args.model or _default_model()
    located = locate(model_ref)
    from photoflux_desktop.engine.devices import detect_device

    device = detect_device(args.device)
    preset = _preset(args, device, located.family)
    dataset = _dataset(args, preset, console)
    write_dataset(dataset, out_dir / "dataset")
    _progress(console, f"Training on {device.name}, preset {preset.summary()}")
    job = TrainingJob(
        model=model_ref,
        dataset=dataset,
        out_dir=out_dir,
        name=name,
        preset=preset,
        seed=args.seed,
        checkpoint_every=args.checkpoint_every,
        sample_every=args.sample_every,
        sample_steps=args.sample_steps,
        resume=args.resume,
        device=args.device,
    )
    outcome = _train_interruptible(job, console)
    payload: dict[str, Any] = {
        **outcome.to_dict(),
        "name": name,
        "model": located.label,
        "family": located.family,
        "preset": preset.to_dict(),
        "dataset": dataset.to_dict(),
    }
    if outcome.status == "cancelled":
        where = outcome.checkpoint or "no checkpoint (no step had finished)"
        raise PhotoFluxError(
            Error(
                ErrorKind.CANCELLED,
                f"Training cancelled at step {outcome.step} of {outcome.total}; "
                f"checkpoint: {where}.",
                "Run the same command with --resume to continue.",
                {"checkpoint": str(outcome.checkpoint or ""), "step": outcome.step},
            )
        )
    adapter = outcome.adapter
    trigger = adapter.trigger if adapter else ""
    human = (
        f"Trained '{name}' ({outcome.total} steps, loss on the photos "
        f"{_shown(outcome.eval_loss[0])} -> {_shown(outcome.eval_loss[1])}). "
        f"Use it: photoflux render PHOTO -o OUT --adapter {name} --prompt '{trigger}'"
    )
    console.result(payload, human)
    return 0


def _default_model() -> str:
    located = first_installed()
    if located is None:
        raise model_missing(
            "No model is installed to train on.",
            "Download one (`photoflux models download sd-turbo`) or pass --model FOLDER.",
        )
    return located.ref


def _preset(args: argparse.Namespace, device: Any, family: str) -> TrainingPreset:
    preset = choose_preset(device, family, args.preset)
    return with_overrides(
        preset,
        steps=args.steps,
        rank=args.rank,
        resolution=args.resolution,
        learning_rate=args.learning_rate,
        batch=args.batch,
        grad_accum=args.grad_accum,
    )


def _dataset(args: argparse.Namespace, preset: TrainingPreset, console: Console) -> PreparedDataset:
    options = DatasetOptions(
        token=args.token,
        class_word=args.class_word,
        resolution=preset.resolution,
        augment=AugmentOptions(variants=args.augment, flip=not args.no_flip),
    )
    dataset = prepare_dataset(Path(args.images), options)
    for report in dataset.reports:
        for issue in report.issues:
            state = "left out" if issue.blocking else "used"
            _progress(console, f"{Path(report.path).name} ({state}): {issue.advice}")
    for note in dataset.notes:
        _progress(console, note)
    require_enough(dataset)
    return dataset


def _progress(console: Console, text: str) -> None:
    """stderr in both modes: --json keeps stdout for its one object."""
    console.err.write(text + "\n")
    console.err.flush()


def _train_interruptible(job: TrainingJob, console: Console) -> Any:
    from photoflux_desktop.engine.diffusion.memory import is_oom
    from photoflux_desktop.engine.training.trainer import train

    cancel = CancelToken()

    def on_sigint(signum: int, frame: object) -> None:
        cancel.cancel()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def on_event(event: TrainingEvent) -> None:
        if event.stage != "training" or event.step % 10 == 0 or event.step == event.total:
            _progress(console, event.line())

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        return train(job, on_event, cancel)
    except Exception as exc:
        if is_oom(exc):
            raise out_of_memory(
                f"Training ran out of memory with preset {job.preset.name}.",
                "Choose a smaller --preset, or lower --resolution, --batch or --rank.",
            ) from exc
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
        sys.stderr.flush()


def _shown(value: float | None) -> str:
    return "?" if value is None else f"{value:.4f}"
