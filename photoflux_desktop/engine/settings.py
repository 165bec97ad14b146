"""User settings: one validated JSON file in the config folder.

A damaged or hand-edited file never stops the app: it is kept aside as
settings.json.bad and defaults are used, with a note the UI can show.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from photoflux_desktop.engine.paths import config_dir

Theme = Literal["system", "dark", "light"]


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=True)
    schema_version: Literal[1] = 1
    models_dir: str | None = None
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    memory: Literal["auto", "full", "lowmem", "offload", "sequential"] = "auto"
    quantize: Literal["none", "int8", "fp8", "int4"] = "none"
    theme: Theme = "system"
    analytics_opt_out: bool = False
    # studios: hide catalog entries whose licence forbids commercial use (opt-in
    # insightface-based likeness add-ons); see catalog.likeness_addons
    commercial_models_only: bool = False
    cloud_url: str | None = Field(default=None, max_length=500)
    # the version id of the consent text a guest agrees to (stored with every lead)
    consent_text_version: str = Field(
        default="2026-01", max_length=40, pattern=r"^[a-z0-9][a-z0-9_.-]*$"
    )
    last_open_dir: str | None = None
    export_format: Literal["png", "jpg", "webp"] = "png"
    watermark_on_export: bool = True


def settings_path() -> Path:
    return config_dir() / "settings.json"


def load_settings(path: Path | None = None) -> tuple[Settings, str | None]:
    """The settings, and a note when the file had to be set aside."""
    path = path or settings_path()
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings(), None
    except OSError as exc:
        return Settings(), f"Settings could not be read ({exc.strerror}); using defaults."
    try:
        return Settings.model_validate(json.loads(raw)), None
    except (json.JSONDecodeError, ValidationError, TypeError) as exc:
        backup = path.with_suffix(".json.bad")
        with contextlib.suppress(OSError):
            path.replace(backup)
        return Settings(), (
            f"Settings file was damaged and was moved to {backup.name}; defaults are in use "
            f"({type(exc).__name__})."
        )


def save_settings(settings: Settings, path: Path | None = None) -> None:
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".settings.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(settings.model_dump_json(indent=2))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
