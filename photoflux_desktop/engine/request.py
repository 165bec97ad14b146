"""The plain-data render contract shared by every renderer (design.md).

A `RenderRequest` goes in, `ProgressEvent`s stream out, a `RenderResult` comes back.
The local renderer, the cloud renderer and test fakes all satisfy `Renderer`.

A request checks every field when it is built (the way diffusers' `check_inputs`
runs before any work), so a renderer never meets a value it cannot use, and it
travels as plain JSON plus PNG bytes (`to_wire`/`from_wire`), so the cloud worker
runs exactly what the desktop would have run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, Protocol

from PIL import Image

from photoflux_desktop.engine.errors import PhotoFluxError
from photoflux_desktop.engine.request_checks import (
    check_bool,
    check_choice,
    check_image,
    check_lora_path,
    check_lora_weight,
    check_loras,
    check_mode,
    check_model,
    check_number,
    check_style,
    check_text,
)

WIRE_VERSION = 1
MAX_PROMPT_CHARS = 2000
# allowed ranges, shared with the CLI parser's early checks and help
STEPS_RANGE = (1, 100)
STRENGTH_RANGE = (0.0, 1.0)  # above 0: 0 would return the photo unchanged
GUIDANCE_RANGE = (0.0, 30.0)
SEED_RANGE = (0, 2**32 - 1)
MAX_SIDE_RANGE = (64, 4096)
GENERATE_SIDE_RANGE = (64, 2048)  # text-to-image width / height
# ControlNet conditioning scale / IP-Adapter scale; above 0 (0 is --likeness none)
LIKENESS_STRENGTH_RANGE = (0.0, 2.0)
# the likeness score (engine/checks/likeness.py, 0..1) a render must reach before it is
# tried again with stronger conditioning; above 0 (leave it unset for no retries)
MIN_LIKENESS_RANGE = (0.0, 1.0)


class Likeness(StrEnum):
    NONE = "none"
    CANNY = "canny"
    DEPTH = "depth"
    FACE = "face"
    BOTH = "both"  # canny structure (ControlNet) and the face (IP-Adapter) together


class Device(StrEnum):
    AUTO = "auto"
    CPU = "cpu"
    CUDA = "cuda"
    MPS = "mps"


class Backend(StrEnum):
    """Who computes a diffusion render: automatic (engine/openvino/choice.py), PyTorch,
    or OpenVINO (the CPU fast path)."""

    AUTO = "auto"
    TORCH = "torch"
    OPENVINO = "openvino"


class MemoryMode(StrEnum):
    AUTO = "auto"
    FULL = "full"
    LOWMEM = "lowmem"
    OFFLOAD = "offload"
    SEQUENTIAL = "sequential"


class Quantize(StrEnum):
    NONE = "none"
    INT8 = "int8"
    FP8 = "fp8"
    INT4 = "int4"
    W8A8 = "w8a8"  # OpenVINO only: 8-bit weights and activations, calibrated at export


class Stage(StrEnum):
    QUEUED = "queued"
    LOADING = "loading"
    WARMUP = "warmup"  # --compile: compiling the denoiser for a new shape, once
    ENCODING = "encoding"
    DENOISING = "denoising"
    DECODING = "decoding"
    STYLING = "styling"
    DONE = "done"


class Status(StrEnum):
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class LoraSpec:
    """One LoRA adapter: a file (or diffusers folder) and how strongly it applies."""

    path: str
    weight: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", check_lora_path(self.path))
        object.__setattr__(self, "weight", check_lora_weight(self.weight))

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "weight": self.weight}


@dataclass(frozen=True, eq=False)
class RenderRequest:
    """Everything a renderer needs; immutable so it can cross threads and processes.

    Strings are accepted for the enum fields and coerced; anything out of range is a
    bad-input error that names the field and what is allowed.
    """

    image: Image.Image | None  # None: text-to-image (generate from the prompt alone)
    style_id: str
    prompt: str = ""
    negative_prompt: str | None = None
    model: str | None = None  # catalog id, a folder path, "instant", or None = automatic
    steps: int | None = None
    strength: float | None = None
    guidance: float | None = None
    seed: int | None = None
    max_side: int = 1024
    likeness: Likeness = Likeness.NONE
    likeness_strength: float | None = None  # None: the family's default for the mode
    min_likeness: float | None = None  # None: no retries for likeness
    loras: tuple[LoraSpec, ...] = ()
    device: Device = Device.AUTO
    backend: Backend = Backend.AUTO
    memory: MemoryMode = MemoryMode.AUTO
    quantize: Quantize = Quantize.NONE
    compile: bool = False
    previews: bool = True
    # text-to-image only: the size to generate (None: the model's native size)
    width: int | None = None
    height: int | None = None
    fast_vae: bool = False  # the tiny autoencoder for encode and final decode (SD, SDXL)

    def __post_init__(self) -> None:
        checked = {
            "image": None if self.image is None else check_image(self.image),
            "style_id": check_style(self.style_id),
            "prompt": check_text("prompt", self.prompt, MAX_PROMPT_CHARS, optional=False),
            "negative_prompt": check_text(
                "negative_prompt", self.negative_prompt, MAX_PROMPT_CHARS, optional=True
            ),
            "model": check_model(self.model),
            "steps": check_number("steps", self.steps, int, *STEPS_RANGE),
            # 0 would return the photo unchanged (and divide by zero in img2img)
            "strength": check_number(
                "strength", self.strength, float, *STRENGTH_RANGE, low_open=True
            ),
            "guidance": check_number("guidance", self.guidance, float, *GUIDANCE_RANGE),
            "seed": check_number("seed", self.seed, int, *SEED_RANGE),
            "max_side": check_number(
                "max_side", self.max_side, int, *MAX_SIDE_RANGE, optional=False
            ),
            "likeness": check_choice("likeness", self.likeness, Likeness),
            "likeness_strength": check_number(
                "likeness_strength",
                self.likeness_strength,
                float,
                *LIKENESS_STRENGTH_RANGE,
                low_open=True,
            ),
            "min_likeness": check_number(
                "min_likeness", self.min_likeness, float, *MIN_LIKENESS_RANGE, low_open=True
            ),
            "loras": check_loras(self.loras, LoraSpec),
            "device": check_choice("device", self.device, Device),
            "backend": check_choice("backend", self.backend, Backend),
            "memory": check_choice("memory", self.memory, MemoryMode),
            "quantize": check_choice("quantize", self.quantize, Quantize),
            "compile": check_bool("compile", self.compile),
            "previews": check_bool("previews", self.previews),
            "width": check_number("width", self.width, int, *GENERATE_SIDE_RANGE),
            "height": check_number("height", self.height, int, *GENERATE_SIDE_RANGE),
            "fast_vae": check_bool("fast_vae", self.fast_vae),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)
        check_mode(self)

    @property
    def is_text_to_image(self) -> bool:
        """No photo: the image is generated from the prompt (and adapters) alone."""
        return self.image is None

    def to_wire(self) -> tuple[dict[str, Any], bytes]:
        """Plain JSON-able fields plus the photo as PNG bytes (lossless)."""
        from photoflux_desktop.engine.request_wire import request_to_wire

        return request_to_wire(self)

    @classmethod
    def from_wire(cls, data: Any, image_bytes: bytes) -> RenderRequest:
        """The request `to_wire` described, checked as strictly as a local one; the
        image is decoded through the engine's intake limits, so hostile bytes are
        refused with a bad-input error."""
        from photoflux_desktop.engine.request_wire import request_from_wire

        return request_from_wire(cls, data, image_bytes)


@dataclass(frozen=True, eq=False)
class ProgressEvent:
    stage: Stage
    step: int = 0
    total: int = 0
    preview: Image.Image | None = None
    message: str = ""


@dataclass(frozen=True)
class RenderParameters:
    """What a render actually ran with: one shape for every backend.

    Fields that mean nothing for a backend are None (an instant style has no steps,
    guidance or model family). `from_dict` also reads records written before this
    type existed (library rows, provenance), so old results reopen.
    """

    style: str
    backend: str  # "instant" or "diffusion"
    model: str
    seed: int | None = None
    subject: str = ""  # the user's own words
    prompt: str | None = None  # the full prompt the model saw
    negative_prompt: str | None = None
    family: str | None = None  # "sd", "sdxl" or "flux"
    instant_style: str | None = None
    steps: int | None = None
    denoising_steps: int | None = None
    steps_run: int | None = None
    strength: float | None = None
    guidance: float | None = None
    render_width: int | None = None
    render_height: int | None = None
    likeness: str | None = None
    likeness_scale: float | None = None  # the conditioning / IP-Adapter scale applied
    quantize: str | None = None
    loras: tuple[LoraSpec, ...] = ()
    compile: bool | None = None
    # "text-to-image" when generated without a photo; None: made from a photo
    mode: str | None = None
    # "tiny" when the fast autoencoder encoded and decoded; "full": the model's own VAE
    autoencoder: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {item.name: getattr(self, item.name) for item in fields(self)}
        data["loras"] = [lora.to_dict() for lora in self.loras]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RenderParameters:
        known = {item.name for item in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        # records from before this type: instant called strength "amount", size "width"
        if values.get("strength") is None and data.get("amount") is not None:
            values["strength"] = data["amount"]
        for old, new in (("width", "render_width"), ("height", "render_height")):
            if values.get(new) is None and data.get(old) is not None:
                values[new] = data[old]
        values["loras"] = _old_loras(data.get("loras"))
        values.setdefault("style", "")
        values.setdefault("backend", "")
        values.setdefault("model", "")
        values["subject"] = values.get("subject") or ""
        return cls(**values)


def _old_loras(items: Any) -> tuple[LoraSpec, ...]:
    """LoRAs as a stored record lists them; an entry that no longer reads is skipped
    (a record describes a past render and must reopen even if it is odd)."""
    loras: list[LoraSpec] = []
    for item in items if isinstance(items, list | tuple) else ():
        try:
            if isinstance(item, dict):
                loras.append(LoraSpec(str(item.get("path", "")), item.get("weight", 1.0)))
            else:
                loras.append(LoraSpec(str(item)))  # older records kept only the path
        except PhotoFluxError:
            continue
    return tuple(loras)


@dataclass(frozen=True, eq=False)
class RenderResult:
    """One shape for every backend. A cancelled render is a result with status
    CANCELLED and no image, never an exception."""

    status: Status
    image: Image.Image | None
    parameters: RenderParameters
    timings: dict[str, float] = field(default_factory=dict)
    memory_plan: str | None = None
    report: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    # quality checks run on the finished image (engine/checks): plain dicts, one per check
    checks: tuple[dict[str, Any], ...] = ()

    @property
    def seed(self) -> int | None:
        return self.parameters.seed

    @property
    def backend(self) -> str:
        return self.parameters.backend

    @property
    def model(self) -> str:
        return self.parameters.model

    @property
    def ai_generated(self) -> bool:
        return self.backend == "diffusion"

    def summary(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "backend": self.backend,
            "model": self.model,
            "seed": self.seed,
            "parameters": self.parameters.to_dict(),
            "timings": {key: round(value, 4) for key, value in self.timings.items()},
            "memory_plan": self.memory_plan,
            "report": self.report,
            "notes": list(self.notes),
            "checks": list(self.checks),
            "likeness": self.likeness_summary(),
        }

    def likeness_summary(self) -> dict[str, Any] | None:
        """The likeness check in short (score, faces found), None when it did not run."""
        from photoflux_desktop.engine.checks.summary import likeness_summary

        return likeness_summary(self.checks, self.report.get("likeness_attempts"))


class CancelToken:
    """Set from any thread; renderers check it between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


ProgressCallback = Callable[[ProgressEvent], None]


def ignore_progress(event: ProgressEvent) -> None:
    """The default progress sink."""


class Renderer(Protocol):
    def render(
        self,
        request: RenderRequest,
        on_progress: ProgressCallback = ignore_progress,
        cancel: CancelToken | None = None,
    ) -> RenderResult: ...
