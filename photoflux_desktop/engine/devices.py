"""Device detection and memory plans.

A memory plan says where weights live while denoising. Plans are ordered from fastest
to cheapest; the automatic choice starts at the fastest one whose estimated peak fits
in free memory, and an out-of-memory error moves one step down the ladder.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from photoflux_desktop.engine.catalog import ModelSpec
from photoflux_desktop.engine.errors import bad_input

GB = 1024**3


class MemoryPlan(StrEnum):
    FULL = "full"  # everything on the device
    LOWMEM = "lowmem"  # full + attention slicing + VAE tiling
    OFFLOAD = "offload"  # whole models move to the GPU only while they run
    SEQUENTIAL = "sequential"  # layer by layer: slowest, smallest


LADDER = (MemoryPlan.FULL, MemoryPlan.LOWMEM, MemoryPlan.OFFLOAD, MemoryPlan.SEQUENTIAL)
_QUANT_FACTOR = {"none": 1.0, "int8": 0.6, "fp8": 0.6, "int4": 0.4, "w8a8": 0.6}
_PLAN_KEY = {
    MemoryPlan.FULL: "full",
    MemoryPlan.LOWMEM: "full",
    MemoryPlan.OFFLOAD: "offload",
    MemoryPlan.SEQUENTIAL: "sequential",
}


@dataclass(frozen=True)
class DeviceInfo:
    kind: str  # "cuda", "mps" or "cpu"
    name: str
    total_gb: float | None = None  # device memory (VRAM); None on CPU
    free_gb: float | None = None
    ram_total_gb: float | None = None
    ram_free_gb: float | None = None
    torch_version: str | None = None
    cuda_version: str | None = None
    bf16: bool = False

    @property
    def torch_device(self) -> str:
        return "cuda:0" if self.kind == "cuda" else self.kind

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "total_gb": self.total_gb,
            "free_gb": self.free_gb,
            "ram_total_gb": self.ram_total_gb,
            "ram_free_gb": self.ram_free_gb,
            "torch": self.torch_version,
            "cuda": self.cuda_version,
            "bf16": self.bf16,
        }


@dataclass(frozen=True)
class PlanChoice:
    ladder: tuple[MemoryPlan, ...]
    reason: str
    estimates_gb: dict[str, float] = field(default_factory=dict)

    @property
    def first(self) -> MemoryPlan:
        return self.ladder[0]

    def starting_at(self, plan: MemoryPlan, why: str) -> PlanChoice:
        """The same ladder entered lower down, at `plan` (never higher than it was)."""
        if plan not in self.ladder or self.ladder.index(plan) == 0:
            return self
        return PlanChoice(self.ladder[self.ladder.index(plan) :], why, self.estimates_gb)

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.first.value,
            "fallbacks": [plan.value for plan in self.ladder[1:]],
            "reason": self.reason,
            "estimates_gb": self.estimates_gb,
        }


def _ram() -> tuple[float | None, float | None]:
    try:
        import psutil
    except ImportError:
        return None, None
    memory = psutil.virtual_memory()
    return round(memory.total / GB, 1), round(memory.available / GB, 1)


def torch_available() -> bool:
    try:
        importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def detect_device(requested: str = "auto") -> DeviceInfo:
    """The device to render on; refuses a named device that is not usable here."""
    import torch

    ram_total, ram_free = _ram()
    common = {
        "ram_total_gb": ram_total,
        "ram_free_gb": ram_free,
        "torch_version": torch.__version__,
    }
    cuda_ok = torch.cuda.is_available()
    mps_ok = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if requested == "cuda" and not cuda_ok:
        raise bad_input(
            "--device cuda was asked for, but torch sees no CUDA GPU.",
            f"torch {torch.__version__} is installed; a CPU build cannot use the GPU. "
            "See the README's NVIDIA section, or use --device auto.",
        )
    if requested == "mps" and not mps_ok:
        raise bad_input("--device mps was asked for, but Apple MPS is not available here.")
    if cuda_ok and requested in ("auto", "cuda"):
        free, total = torch.cuda.mem_get_info()
        return DeviceInfo(
            kind="cuda",
            name=torch.cuda.get_device_name(0),
            total_gb=round(total / GB, 1),
            free_gb=round(free / GB, 1),
            cuda_version=torch.version.cuda,
            bf16=torch.cuda.is_bf16_supported(),
            **common,
        )
    if mps_ok and requested in ("auto", "mps"):
        return DeviceInfo(kind="mps", name="Apple MPS", bf16=False, **common)
    return DeviceInfo(kind="cpu", name="CPU", bf16=True, **common)


def estimate_gb(
    spec: ModelSpec | None, weights_gb: float, plan: MemoryPlan, quantize: str
) -> float:
    """Estimated peak device memory for a plan; catalog figures when known."""
    factor = _QUANT_FACTOR.get(quantize, 1.0)
    if spec is not None:
        base = spec.vram_gb[_PLAN_KEY[plan]]
    else:
        # unknown folder: weights plus ~40% for activations and the VAE decode
        share = {"full": 1.4, "offload": 0.8, "sequential": 0.25}[_PLAN_KEY[plan]]
        base = weights_gb * share + 0.5
    if plan is MemoryPlan.LOWMEM:
        base *= 0.85
    return round(base * factor, 2)


def choose_plan(
    device: DeviceInfo,
    spec: ModelSpec | None,
    weights_gb: float,
    requested: str = "auto",
    quantize: str = "none",
) -> PlanChoice:
    if device.kind != "cuda":
        # model/sequential offload move weights to an accelerator; on CPU and MPS the
        # only cheaper plan is slicing and tiling
        ladder = (MemoryPlan.FULL, MemoryPlan.LOWMEM)
        if requested in ("offload", "sequential"):
            raise bad_input(
                f"--memory {requested} needs an NVIDIA GPU; this render runs on {device.name}.",
                "Use --memory auto, full or lowmem.",
            )
        start = MemoryPlan(requested) if requested != "auto" else MemoryPlan.FULL
        estimates = {plan.value: estimate_gb(spec, weights_gb, plan, quantize) for plan in ladder}
        why = f"{device.name}: weights stay in system memory"
        if device.ram_free_gb is not None:
            why += f" ({device.ram_free_gb:g} GB free)"
        return PlanChoice(ladder[ladder.index(start) :], why, estimates)
    estimates = {plan.value: estimate_gb(spec, weights_gb, plan, quantize) for plan in LADDER}
    if requested != "auto":
        start = MemoryPlan(requested)
        return PlanChoice(
            LADDER[LADDER.index(start) :], f"--memory {requested} was asked for", estimates
        )
    free = device.free_gb or 0.0
    budget = free * 0.9  # leave room for the CUDA context and fragmentation
    for plan in LADDER:
        if estimates[plan.value] <= budget:
            reason = (
                f"{device.name}: {free:g} GB free; '{plan.value}' needs about "
                f"{estimates[plan.value]:g} GB"
            )
            return PlanChoice(LADDER[LADDER.index(plan) :], reason, estimates)
    reason = f"{device.name}: only {free:g} GB free, under every estimate; trying the cheapest plan"
    return PlanChoice((MemoryPlan.SEQUENTIAL,), reason, estimates)
