"""The plain-data render contract shared by every renderer (design.md).

A `RenderRequest` goes in, `ProgressEvent`s stream out, a `RenderResult` comes back.
The local renderer, the cloud renderer and test fakes all satisfy `Renderer`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from PIL import Image


class Likeness(StrEnum):
    NONE = "none"
    CANNY = "canny"
    DEPTH = "depth"
    FACE = "face"


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
    path: str
    weight: float = 1.0


@dataclass(frozen=True, eq=False)
class RenderRequest:
    """Everything a renderer needs; immutable so it can cross threads and processes."""

    image: Image.Image
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
    loras: tuple[LoraSpec, ...] = ()
    device: str = "auto"
    memory: str = "auto"
    quantize: str = "none"
    compile: bool = False
    previews: bool = True

    def describe(self) -> dict[str, Any]:
        """The request's parameters as JSON-ready data (no pixels)."""
        return {
            "style": self.style_id,
            "prompt": self.prompt or None,
            "model": self.model,
            "steps": self.steps,
            "strength": self.strength,
            "guidance": self.guidance,
            "seed": self.seed,
            "max_side": self.max_side,
            "likeness": self.likeness.value,
            "loras": [{"path": lora.path, "weight": lora.weight} for lora in self.loras],
            "device": self.device,
            "memory": self.memory,
            "quantize": self.quantize,
        }


@dataclass(frozen=True, eq=False)
class ProgressEvent:
    stage: Stage
    step: int = 0
    total: int = 0
    preview: Image.Image | None = None
    message: str = ""


@dataclass(frozen=True, eq=False)
class RenderResult:
    status: Status
    image: Image.Image | None
    seed: int | None
    backend: str  # "instant" or "diffusion"
    model: str
    parameters: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    memory_plan: str | None = None
    report: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def ai_generated(self) -> bool:
        return self.backend == "diffusion"

    def summary(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "backend": self.backend,
            "model": self.model,
            "seed": self.seed,
            "parameters": self.parameters,
            "timings": {key: round(value, 4) for key, value in self.timings.items()},
            "memory_plan": self.memory_plan,
            "report": self.report,
            "notes": list(self.notes),
        }


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
