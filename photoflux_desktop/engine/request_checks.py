"""Field checks for `RenderRequest`: each returns the clean value or raises the
engine's bad-input error naming the field and what is allowed."""

from __future__ import annotations

import math
from enum import StrEnum
from numbers import Integral, Real
from pathlib import Path
from typing import Any, TypeVar

from PIL import Image

from photoflux_desktop.engine.errors import PhotoFluxError, bad_input
from photoflux_desktop.engine.intake import DEFAULT_LIMITS

E = TypeVar("E", bound=StrEnum)
MAX_PATH_CHARS = 4096
MAX_LORAS = 8
LORA_WEIGHT_RANGE = (-4.0, 4.0)


def invalid(name: str, allowed: str, value: Any, hint: str = "") -> PhotoFluxError:
    shown = repr(value) if not isinstance(value, Image.Image) else f"{value.mode} image"
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return bad_input(f"{name} must be {allowed}; got {shown}.", hint, field=name, allowed=allowed)


def check_number(
    name: str,
    value: Any,
    kind: type,
    low: float,
    high: float,
    *,
    low_open: bool = False,
    optional: bool = True,
) -> Any:
    """A number in [low, high] (or (low, high] when `low_open`); None when optional."""
    if value is None and optional:
        return None
    whole = kind is int
    if whole:  # exact bounds: `:g` would show the seed limit as 4.29497e+09
        allowed = f"a whole number from {int(low)} to {int(high)}"
    elif low_open:
        allowed = f"a number above {low:g} and at most {high:g}"
    else:
        allowed = f"a number from {low:g} to {high:g}"
    if optional:
        allowed += " (or None for the default)"
    # bool is an int subclass; True is never meant as a step count
    if isinstance(value, bool) or not isinstance(value, Integral if whole else Real):
        raise invalid(name, allowed, value)
    try:
        number = int(value) if whole else float(value)
    except (OverflowError, ValueError):  # an int beyond float's range (JSON allows them)
        raise invalid(name, allowed, value) from None
    # ints compare as ints (isfinite would turn a huge one into a float and overflow)
    inside = (whole or math.isfinite(number)) and low <= number <= high
    if not inside or (low_open and number == low):
        raise invalid(name, allowed, value)
    return number


def check_choice(name: str, value: Any, choices: type[E]) -> E:
    """One of a StrEnum's values; plain strings are coerced."""
    allowed = "one of " + ", ".join(member.value for member in choices)
    if isinstance(value, choices):
        return value
    if isinstance(value, str):
        try:
            return choices(value)
        except ValueError:
            pass
    raise invalid(name, allowed, value)


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise invalid(name, "True or False", value)
    return value


def check_text(name: str, value: Any, max_chars: int, *, optional: bool) -> str | None:
    if value is None and optional:
        return None
    allowed = f"text of at most {max_chars} characters" + (" (or None)" if optional else "")
    if not isinstance(value, str) or len(value) > max_chars or "\x00" in value:
        raise invalid(name, allowed, value)
    return value


def check_image(value: Any) -> Image.Image:
    """An RGB PIL image within the intake limits (the same ones a file must pass)."""
    limits = DEFAULT_LIMITS
    hint = "Load photos with photoflux_desktop.engine.intake.load_photo, which converts them."
    if not isinstance(value, Image.Image):
        raise invalid("image", "a PIL image", value, hint)
    if value.mode != "RGB":
        raise invalid("image", "an RGB image", value, hint)
    width, height = value.size
    allowed = (
        f"at least {limits.min_side} px a side, at most {limits.max_pixels / 1e6:g} megapixels "
        f"and an aspect ratio up to {limits.max_aspect:g}:1"
    )
    too_small = min(width, height) < limits.min_side
    if too_small or width * height > limits.max_pixels:
        raise invalid("image", allowed, f"{width}×{height} px")
    if max(width, height) / min(width, height) > limits.max_aspect:
        raise invalid("image", allowed, f"{width}×{height} px")
    try:  # a lazily opened file decodes here, not deep inside a renderer
        value.load()
    except Exception as exc:  # a damaged file can make a decoder raise almost anything
        raise invalid("image", "a complete, decodable image", value, hint) from exc
    return value


def check_style(value: Any) -> str:
    from photoflux_desktop.engine.presets import bundled_presets

    known = sorted(bundled_presets())
    if not isinstance(value, str) or value not in known:
        raise bad_input(
            f"style_id must name a style preset; got {value!r}.",
            "Run `photoflux styles` to list the style ids.",
            field="style_id",
            known=known,
        )
    return value


def check_model(value: Any) -> str | None:
    """A catalog id, a folder path or "instant"; None, "" and "auto" mean automatic."""
    if value is None:
        return None
    # type first: `in` on an arbitrary object (a numpy array) can itself raise
    if not isinstance(value, str) or len(value) > MAX_PATH_CHARS or "\x00" in value:
        raise invalid("model", "a catalog id, a model folder, 'instant' or None", value)
    return None if value in ("", "auto") else value


def check_lora_path(value: Any) -> str:
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > MAX_PATH_CHARS
        or "\x00" in value
    ):
        raise invalid("loras.path", "the path of a LoRA file", value)
    return value


def check_lora_weight(value: Any) -> float:
    low, high = LORA_WEIGHT_RANGE
    return check_number("loras.weight", value, float, low, high, optional=False)


def _exists(path: str) -> bool:
    """Like Path.exists, but a name the OS refuses (too long, no permission) is absent
    too, not an OSError escaping the request's checks."""
    try:
        return Path(path).exists()
    except (OSError, ValueError):
        return False


def _file_or_folder(path: str) -> bool:
    """A LoRA is a file or a diffusers LoRA folder; a pipe or a device is neither (and
    diffusers would take such a path for a hub repository id)."""
    try:
        return Path(path).is_file() or Path(path).is_dir()
    except (OSError, ValueError):
        return False


def check_loras(value: Any, spec_type: type) -> tuple[Any, ...]:
    """A sequence of LoraSpec whose files exist on this machine."""
    allowed = f"a sequence of at most {MAX_LORAS} LoraSpec"
    if not isinstance(value, list | tuple) or len(value) > MAX_LORAS:
        raise invalid("loras", allowed, value)
    for lora in value:
        if not isinstance(lora, spec_type):
            raise invalid("loras", allowed, value)
        if not _exists(lora.path):
            raise bad_input(
                f"loras: the LoRA file {lora.path} does not exist.",
                "Check the LoRA path.",
                field="loras",
            )
        if not _file_or_folder(lora.path):
            raise bad_input(
                f"loras: {lora.path} is not a file or a folder.",
                "Pass the path of a LoRA .safetensors file.",
                field="loras",
            )
    return tuple(value)


def check_mode(request: Any) -> None:
    """What only a photo makes meaningful, refused on a text-to-image request (and the
    text-to-image size refused on a photo one), each naming the field to change."""
    if request.image is not None:
        for name in ("width", "height"):
            if getattr(request, name) is not None:
                raise bad_input(
                    f"{name} is for generating from text; with a photo the size follows "
                    "the photo and max_side.",
                    "Leave width and height unset, or generate without a photo.",
                    field=name,
                )
        return
    if request.model == "instant":
        raise bad_input(
            "The instant styles restyle a photo; they cannot generate from text.",
            "Choose a photo, or a diffusion model (or leave the model automatic).",
            field="model",
        )
    if request.likeness != "none":
        raise bad_input(
            "Likeness control keeps the person in a photo; generating from text has none.",
            "Set likeness to none, or choose a photo.",
            field="likeness",
        )
    for name, why in (
        ("min_likeness", "compares the result with a photo"),
        ("likeness_strength", "says how strongly likeness control binds to a photo"),
        ("strength", "says how far to move from a photo"),
    ):
        if getattr(request, name) is not None:
            raise bad_input(
                f"{name} {why}; generating from text has none.",
                f"Leave {name} unset, or choose a photo.",
                field=name,
            )
