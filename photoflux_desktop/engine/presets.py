"""Style presets: data files in resources/presets, one schema, validated on load."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from photoflux_desktop.engine.errors import bad_input
from photoflux_desktop.engine.instant_styles import INSTANT_STYLES
from photoflux_desktop.engine.resources import resources_dir

Family = Literal["sd", "sdxl", "flux"]
# "instant": the OpenCV look is the style itself, applied on click in the window;
# "ai": the style needs a diffusion model, and its instant look is only a stand-in
Kind = Literal["instant", "ai"]
FAMILIES: tuple[Family, ...] = ("sd", "sdxl", "flux")


class PresetError(ValueError):
    """A preset file is malformed; the message names the file and the field."""


class FamilyDefaults(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    strength: float = Field(gt=0.0, le=1.0)
    steps: int = Field(ge=1, le=100)
    guidance: float = Field(ge=0.0, le=30.0)


class InstantSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    style: str
    amount: float = Field(default=1.0, ge=0.0, le=1.0)

    @field_validator("style")
    @classmethod
    def _known_style(cls, value: str) -> str:
        if value not in INSTANT_STYLES:
            raise ValueError(f"unknown instant style '{value}' (known: {sorted(INSTANT_STYLES)})")
        return value


class Preset(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    schema_version: Literal[1] = 1
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=40)
    name: str = Field(min_length=1, max_length=40)
    description: str = Field(min_length=1, max_length=200)
    kind: Kind
    category: str = Field(min_length=1, max_length=24)
    prompt: str = Field(min_length=1, max_length=600)
    negative_prompt: str = Field(default="", max_length=600)
    defaults: dict[Family, FamilyDefaults]
    instant: InstantSpec | None
    thumbnail: str
    tags: tuple[str, ...] = ()

    @field_validator("prompt")
    @classmethod
    def _has_subject(cls, value: str) -> str:
        if "{subject}" not in value:
            raise ValueError("must contain the placeholder {subject}")
        return value

    @field_validator("defaults")
    @classmethod
    def _every_family(cls, value: dict[Family, FamilyDefaults]) -> dict[Family, FamilyDefaults]:
        missing = [family for family in FAMILIES if family not in value]
        if missing:
            raise ValueError(f"missing defaults for model families {missing}")
        return value

    @model_validator(mode="after")
    def _instant_kind_has_a_look(self) -> Preset:
        if self.kind == "instant" and self.instant is None:
            raise ValueError("kind 'instant' needs an 'instant' look")
        return self

    def render_prompt(self, subject: str | None) -> str:
        return self.prompt.replace(
            "{subject}", (subject or "").strip() or "the person in the photo"
        )


def presets_dir() -> Path:
    return resources_dir() / "presets"


def thumbnails_dir() -> Path:
    return resources_dir() / "thumbnails"


def load_preset_file(path: Path) -> Preset:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PresetError(f"{path.name}: not readable JSON ({exc})") from exc
    try:
        preset = Preset.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(root)"
        raise PresetError(f"{path.name}: field '{where}': {first['msg']}") from exc
    if preset.id != path.stem:
        raise PresetError(f"{path.name}: field 'id': '{preset.id}' must match the file name")
    if not (thumbnails_dir() / preset.thumbnail).is_file():
        raise PresetError(f"{path.name}: field 'thumbnail': no file '{preset.thumbnail}'")
    return preset


def load_presets(folder: Path | None = None) -> dict[str, Preset]:
    folder = folder or presets_dir()
    presets = [load_preset_file(path) for path in sorted(folder.glob("*.json"))]
    return {preset.id: preset for preset in presets}


def categories(presets: dict[str, Preset]) -> list[str]:
    """The presets' categories, each once, in alphabetical order."""
    return sorted({preset.category for preset in presets.values()})


@cache
def bundled_presets() -> dict[str, Preset]:
    return load_presets()


def get_preset(style_id: str) -> Preset:
    presets = bundled_presets()
    if style_id not in presets:
        raise bad_input(
            f"Unknown style '{style_id}'.",
            "Run `photoflux styles` to list the style ids.",
            known=sorted(presets),
        )
    return presets[style_id]
