"""Training settings that fit the device, each with its expected time before start.

Tiers follow the memory a card has (CPU, 8, 12, 16, 24+ GB). Bigger models need more:
a tier that cannot train a family says so instead of offering settings that would run
out of memory. Per-step seconds are rough figures for a mid-range card of each tier
at the preset's resolution (FLUX anchor: a QLoRA of 700 steps takes about 41 min on an
RTX 4090, about 3.5 s a step); they are shown as estimates and replaced by the measured
speed once training runs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from photoflux_desktop.engine.devices import DeviceInfo
from photoflux_desktop.engine.errors import bad_input

TIERS = ("cpu", "8gb", "12gb", "16gb", "24gb")


@dataclass(frozen=True)
class TrainingPreset:
    name: str  # the tier it was made for: "cpu", "8gb", ... "24gb"
    family: str
    rank: int
    batch: int
    grad_accum: int
    resolution: int
    steps: int
    learning_rate: float
    mixed_precision: str  # "no", "fp16" or "bf16"
    gradient_checkpointing: bool
    optimizer: str  # "adamw" or "adamw8bit" (bitsandbytes, CUDA only)
    quantize_base: str  # "none" or "int8": the frozen denoiser's weights (optimum-quanto)
    offload: bool  # text encoders and VAE leave the device once their outputs are cached
    seconds_per_step: float | None  # the estimate; None where no figure is known

    @property
    def expected_minutes(self) -> float | None:
        if self.seconds_per_step is None:
            return None
        return round(self.steps * self.seconds_per_step / 60.0, 1)

    def summary(self) -> str:
        time = (
            f"about {self.expected_minutes:g} min"
            if self.expected_minutes is not None
            else "time unknown until the first steps"
        )
        return (
            f"{self.name}: {self.steps} steps at {self.resolution} px, rank {self.rank}, "
            f"batch {self.batch}x{self.grad_accum}, {self.optimizer}, "
            f"base weights {self.quantize_base}, {time}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "expected_minutes": self.expected_minutes}


# (rank, batch, grad_accum, resolution, quantize, offload, seconds/step) per tier
_TABLE: dict[str, dict[str, tuple[int, int, int, int, str, bool, float] | None]] = {
    "sd": {
        "cpu": (4, 1, 1, 512, "none", False, 25.0),
        "8gb": (16, 1, 2, 512, "none", True, 0.9),
        "12gb": (16, 2, 1, 512, "none", True, 0.7),
        "16gb": (32, 2, 1, 512, "none", False, 0.5),
        "24gb": (32, 4, 1, 512, "none", False, 0.6),
    },
    "sdxl": {
        "cpu": None,  # days on a CPU
        "8gb": (8, 1, 4, 768, "int8", True, 3.0),
        "12gb": (16, 1, 2, 1024, "int8", True, 2.2),
        "16gb": (16, 1, 2, 1024, "none", True, 1.6),
        "24gb": (32, 2, 1, 1024, "none", False, 1.4),
    },
    "flux": {
        "cpu": None,
        "8gb": None,  # kohya: 12 GB is the floor, with block swapping
        "12gb": (4, 1, 4, 512, "int8", True, 6.0),
        "16gb": (16, 1, 2, 768, "int8", True, 4.5),
        "24gb": (16, 2, 1, 1024, "int8", True, 3.5),  # ~41 min for 700 steps on a 4090
    },
}
_LEARNING_RATE = {"sd": 1e-4, "sdxl": 1e-4, "flux": 4e-4}
STEPS = {"sd": 800, "sdxl": 1000, "flux": 700}


def tier_of(device: DeviceInfo) -> str:
    if device.kind != "cuda" or not device.total_gb:
        return "cpu"  # MPS trains like a CPU here: no bitsandbytes, no fp16 autocast
    total = device.total_gb
    for tier, limit in (("24gb", 22.0), ("16gb", 15.0), ("12gb", 11.0)):
        if total >= limit:
            return tier
    return "8gb"


def eight_bit_available(device: DeviceInfo) -> bool:
    """bitsandbytes' 8-bit AdamW runs on CUDA only; never offer it elsewhere."""
    if device.kind != "cuda":
        return False
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        return False
    return True


def make_preset(tier: str, family: str, device: DeviceInfo) -> TrainingPreset | None:
    row = _TABLE[family].get(tier)
    if row is None:
        return None
    rank, batch, accum, resolution, quantize, offload, seconds = row
    cuda = device.kind == "cuda"
    precision = "no" if not cuda else ("bf16" if device.bf16 else "fp16")
    return TrainingPreset(
        name=tier,
        family=family,
        rank=rank,
        batch=batch,
        grad_accum=accum,
        resolution=resolution,
        steps=STEPS[family],
        learning_rate=_LEARNING_RATE[family],
        mixed_precision=precision,
        gradient_checkpointing=cuda and tier != "24gb",
        optimizer="adamw8bit" if cuda and eight_bit_available(device) else "adamw",
        quantize_base=quantize if cuda else "none",
        offload=offload and cuda,
        seconds_per_step=seconds,
    )


def presets_for(device: DeviceInfo, family: str) -> list[TrainingPreset]:
    """Every tier up to this device's, smallest first (a smaller one is always safe)."""
    top = TIERS.index(tier_of(device))
    tiers = TIERS[: top + 1] if top > 0 else ("cpu",)
    found = [make_preset(t, family, device) for t in tiers if t != "cpu" or top == 0]
    return [p for p in found if p is not None]


def choose_preset(device: DeviceInfo, family: str, name: str | None = None) -> TrainingPreset:
    offered = presets_for(device, family)
    if name in (None, "auto"):
        if not offered:
            raise bad_input(
                f"This device ({device.name}) cannot train a {family.upper()} LoRA.",
                "FLUX needs a 12 GB NVIDIA card, SDXL 8 GB; SD 1.x/2.x trains anywhere.",
                gui_hint="Choose an SD model, or train on a machine with a larger GPU.",
            )
        return offered[-1]
    for preset in offered:
        if preset.name == name:
            return preset
    names = ", ".join(p.name for p in offered) or "none"
    raise bad_input(
        f"Preset '{name}' is not available for {family.upper()} on {device.name}.",
        f"Choose one of: {names} (or auto).",
    )


def with_overrides(preset: TrainingPreset, **values: Any) -> TrainingPreset:
    """The preset with the user's explicit choices (None = keep the preset's); the time
    estimate scales with the pixels a step processes."""
    chosen = {k: v for k, v in values.items() if v is not None}
    changed = replace(preset, **chosen)
    if preset.seconds_per_step is None:
        return changed
    work = (changed.resolution / preset.resolution) ** 2 * (
        changed.batch * changed.grad_accum / (preset.batch * preset.grad_accum)
    )
    return replace(changed, seconds_per_step=round(preset.seconds_per_step * work, 4))
