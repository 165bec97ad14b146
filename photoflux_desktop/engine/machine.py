"""What this machine offers, found without importing torch: for Settings' device list
and the first-run model recommendation.

The window must not load torch to draw a card (tests/ui/test_startup_imports.py), so
the probe reads what is cheap to read: whether torch is installed and for which
accelerator (its version tag), `nvidia-smi` for an NVIDIA card's name and memory, and
the platform for Apple silicon. When torch is already loaded (a render ran), its own
answer (engine/devices.py `detect_device`) is used instead. Renders always probe with
torch; this is only for choosing and explaining.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Protocol

from photoflux_desktop.engine.catalog import CATALOG, ModelSpec


class DeviceLike(Protocol):
    """The fields used here; engine/devices.py DeviceInfo has them too."""

    @property
    def kind(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def total_gb(self) -> float | None: ...


@dataclass(frozen=True)
class MachineInfo:
    kind: str  # "cuda", "mps" or "cpu"
    name: str
    total_gb: float | None = None  # graphics memory


_probe_cache: list[DeviceLike] = []


def probe_machine() -> DeviceLike:
    """The best device here, probed once per process; no torch import."""
    if not _probe_cache:
        _probe_cache.append(_probe())
    return _probe_cache[0]


def _probe() -> DeviceLike:
    if "torch" in sys.modules:  # already paid for: the authoritative answer
        from photoflux_desktop.engine.lazy import detect_device

        return detect_device()
    try:
        torch_version = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return MachineInfo("cpu", "CPU")  # without torch only instant looks run anyway
    if sys.platform == "darwin" and platform.machine() == "arm64":
        return MachineInfo("mps", "Apple GPU")
    if "+cpu" not in torch_version:
        gpu = _nvidia_smi()
        if gpu is not None:
            return gpu
    return MachineInfo("cpu", "CPU")


def _nvidia_smi() -> MachineInfo | None:
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return None
    try:
        out = subprocess.run(
            [tool, "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
        name, mib = out.splitlines()[0].rsplit(",", 1)
        return MachineInfo("cuda", name.strip(), round(float(mib) / 1024, 1))
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class DeviceOption:
    value: str  # a Settings.device value
    label: str
    explanation: str  # one line, for people


def device_options(best: DeviceLike) -> list[DeviceOption]:
    """Only the devices that exist on this machine, best first after "Automatic"."""
    short = {"cuda": "NVIDIA GPU", "mps": "Apple GPU"}.get(best.kind, "CPU")
    options = [
        DeviceOption(
            "auto",
            f"Automatic ({short})",
            "Uses the fastest device found here and falls back when memory runs short.",
        )
    ]
    if best.kind == "cuda":
        memory = f"{best.total_gb:g} GB of graphics memory; " if best.total_gb else ""
        options.append(
            DeviceOption("cuda", f"NVIDIA GPU: {best.name}", f"{memory}the fastest way to render.")
        )
    if best.kind == "mps":
        options.append(
            DeviceOption("mps", "Apple GPU", "The Mac's graphics chip; several times the CPU.")
        )
    options.append(
        DeviceOption(
            "cpu",
            "Processor (CPU)",
            "Works on every machine, but a diffusion render takes many seconds to minutes.",
        )
    )
    return options


@dataclass(frozen=True)
class Recommendation:
    model_id: str
    name: str
    download_gb: float
    seconds_per_image: float  # estimated, at the model's native size, on this machine
    reason: str


def recommend_model(device: DeviceLike, cpu_count: int | None = None) -> Recommendation:
    """The first model to download on this machine, with why and what it will cost.

    A first download should be quick to fetch and quick to run: SDXL-Turbo where the
    card holds it whole (better detail, same two steps), SD-Turbo everywhere else.
    """
    xl = CATALOG["sdxl-turbo"]
    total = device.total_gb or 0
    if device.kind == "cuda" and total * 0.9 >= xl.vram_gb["full"]:
        spec = xl
        reason = (
            f"Your {device.name} has {total:g} GB of graphics memory: enough for "
            "SDXL-Turbo's sharper detail at the same speed class."
        )
    elif device.kind == "cuda":
        spec = CATALOG["sd-turbo"]
        reason = (
            f"Your {device.name} has {total:g} GB of graphics memory: SD-Turbo "
            "fits it with room to spare."
        )
    elif device.kind == "mps":
        spec = CATALOG["sd-turbo"]
        reason = "On an Apple GPU, SD-Turbo is the model that renders in seconds."
    else:
        spec = CATALOG["sd-turbo"]
        reason = "No supported GPU was found: SD-Turbo is the only model practical on a CPU."
    return Recommendation(
        spec.id, spec.name, spec.disk_gb, _estimate_seconds(spec, device, cpu_count), reason
    )


def _estimate_seconds(spec: ModelSpec, device: DeviceLike, cpu_count: int | None) -> float:
    seconds = spec.seconds_per_image.get(device.kind, spec.seconds_per_image.get("cpu", 60.0))
    if device.kind == "cpu":
        # the catalog figure is for 4 cores; fewer cores are proportionally slower
        cores = cpu_count or os.cpu_count() or 4
        seconds *= max(0.5, 4 / cores)
    elif device.kind == "cuda" and (device.total_gb or 0) * 0.9 < spec.vram_gb["full"]:
        seconds *= 3  # the weights move in and out of the card while it renders
    return round(seconds, 1)
