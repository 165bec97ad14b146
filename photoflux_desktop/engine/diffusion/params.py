"""Turning a request + preset + model into concrete diffusion parameters."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field

from photoflux_desktop.engine.model_store import LocatedModel
from photoflux_desktop.engine.presets import Preset
from photoflux_desktop.engine.request import RenderRequest


@dataclass(frozen=True)
class DiffusionParams:
    prompt: str
    negative_prompt: str | None
    steps: int
    strength: float
    guidance: float
    seed: int
    width: int
    height: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def denoising_steps(self) -> int:
        """Steps img2img actually runs: the last `strength` share of the schedule."""
        return max(1, int(self.steps * self.strength))


def render_size(image_size: tuple[int, int], long_side: int, multiple: int) -> tuple[int, int]:
    """Scale to `long_side`, then round each side to a multiple the model accepts."""
    width, height = image_size
    scale = long_side / max(width, height)
    w = max(multiple, round(width * scale / multiple) * multiple)
    h = max(multiple, round(height * scale / multiple) * multiple)
    return w, h


def generate_size(request: RenderRequest, native: int | None, multiple: int) -> tuple[int, int]:
    """Text-to-image: the asked width and height (a missing one follows the other),
    else the model's native square, within max_side and on the model's multiple."""
    multiple = math.lcm(multiple, 8)  # the text-to-image pipelines insist on eights
    side = min(native or request.max_side, request.max_side)
    width, height = request.width or request.height or side, request.height or request.width or side
    return render_size(
        (width, height), max(min(max(width, height), request.max_side), multiple), multiple
    )


def resolve(
    request: RenderRequest,
    preset: Preset,
    located: LocatedModel,
    multiple: int,
    native: int | None = None,
) -> DiffusionParams:
    """`native`: the loaded model's own size, for a folder model the catalog knows
    nothing of (text-to-image generates at it by default)."""
    family_defaults = preset.defaults[located.family]
    spec = located.spec
    notes: list[str] = []
    steps = request.steps or max(family_defaults.steps, spec.min_steps if spec else 1)
    strength = request.strength if request.strength is not None else family_defaults.strength
    if request.image is None:
        strength = 1.0  # text-to-image denoises the whole schedule from noise
    guidance = request.guidance if request.guidance is not None else family_defaults.guidance
    if spec and request.guidance is None and spec.guidance > guidance:
        guidance = spec.guidance  # e.g. LCM wants ~1.0 even when a preset says 0
    if steps * strength < 1:
        needed = math.ceil(1 / strength)
        notes.append(
            f"{steps} steps at strength {strength:g} would run no denoising step; used {needed}."
        )
        steps = needed
    if request.image is None:
        width, height = generate_size(request, spec.native_px if spec else native, multiple)
    else:
        native = spec.native_px if spec else request.max_side
        long_side = min(native, request.max_side, max(request.image.size))
        width, height = render_size(request.image.size, max(long_side, multiple), multiple)
    seed = request.seed if request.seed is not None else secrets.randbelow(2**32)
    negative = (request.negative_prompt or preset.negative_prompt) if guidance > 1 else None
    return DiffusionParams(
        prompt=preset.render_prompt(request.prompt),
        negative_prompt=negative,
        steps=steps,
        strength=strength,
        guidance=guidance,
        seed=seed,
        width=width,
        height=height,
        notes=tuple(notes),
    )
