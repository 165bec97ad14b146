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
# the NSFW classes that flag by default (engine/checks/nsfw.py: exposed genitalia,
# breasts, buttocks and anus; covered parts, faces and feet never flag)
DEFAULT_NSFW_CLASSES = (
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "BUTTOCKS_EXPOSED",
    "ANUS_EXPOSED",
)


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=True)
    schema_version: Literal[1] = 1
    models_dir: str | None = None
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    # diffusion compute backend (engine/openvino/choice.py); threads 0 = all physical cores
    backend: Literal["auto", "torch", "openvino"] = "auto"
    openvino_threads: int = Field(default=0, ge=0, le=1024)
    # the tiny autoencoder (TAESD) for the photo's encode and the final decode: much
    # faster on a CPU, softer fine detail (engine/diffusion/fast_vae.py)
    fast_vae: bool = False
    memory: Literal["auto", "full", "lowmem", "offload", "sequential"] = "auto"
    # weights in fewer bits: none, int8 (torch or OpenVINO), fp8 and int4 (torch), w8a8
    # (OpenVINO only: 8-bit weights and activations, the fastest on a CPU)
    quantize: Literal["none", "int8", "fp8", "int4", "w8a8"] = "none"
    theme: Theme = "system"
    # anonymous usage events are sent only after the user said yes (asked on first run);
    # None = not asked yet. `analytics_opt_out` is what older files wrote: a True there
    # still means no.
    analytics_consent: bool | None = None
    analytics_opt_out: bool = False
    # the first-run welcome card (model setup) was closed with "Not now"
    welcome_dismissed: bool = False
    # studios: hide catalog entries whose licence forbids commercial use (opt-in
    # insightface-based likeness add-ons); see catalog.likeness_addons
    commercial_models_only: bool = False
    cloud_url: str | None = Field(default=None, max_length=500)
    # the version id of the consent text a guest agrees to (stored with every lead)
    consent_text_version: str = Field(
        default="2026-01", max_length=40, pattern=r"^[a-z0-9][a-z0-9_.-]*$"
    )
    # the studio's own wording (None: the built-in text, sync/consent.py); a connected
    # studio's texts, fetched from its cloud, take precedence over these
    consent_processing_text: str | None = Field(default=None, max_length=4000)
    consent_marketing_text: str | None = Field(default=None, max_length=4000)
    marketing_text_version: str = Field(
        default="2026-01", max_length=40, pattern=r"^[a-z0-9][a-z0-9_.-]*$"
    )
    privacy_url: str | None = Field(default=None, max_length=500)
    last_open_dir: str | None = None
    export_format: Literal["png", "jpg", "webp"] = "png"
    watermark_on_export: bool = True
    # one-click Save: the folder it writes to (None: Pictures/PhotoFlux) and the size
    export_dir: str | None = None
    export_size: Literal["original", "social", "print-10x15", "print-13x18", "print-a4"] = (
        "original"
    )
    # kiosk (event) mode; the PIN is only ever stored as a salted scrypt hash
    # (engine/kiosk_pin.py), and kiosk mode will not start without one
    kiosk_pin_hash: str | None = Field(default=None, max_length=300)
    kiosk_campaign: str | None = Field(default=None, max_length=80)
    kiosk_styles: list[str] = Field(default_factory=list, max_length=8)  # empty: a default set
    kiosk_camera: str = Field(default="0", max_length=500)  # device index or a video file
    kiosk_idle_timeout_s: int = Field(default=60, ge=10, le=3600)
    kiosk_countdown_s: int = Field(default=3, ge=0, le=10)
    kiosk_model: str = Field(default="auto", max_length=500)  # "instant" never needs a model
    # NSFW screening of every photo and result (engine/checks/nsfw.py): the detector by
    # its registered name, the classes that count and the score from which they flag
    nsfw_detector: str = Field(default="nudenet", max_length=80)
    nsfw_classes: list[str] = Field(
        default_factory=lambda: list(DEFAULT_NSFW_CLASSES), max_length=40
    )
    nsfw_threshold: float = Field(default=0.5, ge=0.05, le=0.99)
    # studio: a flagged image is never e-mailed, shared by QR, printed or exported
    # (the operator cannot approve it while this is on)
    studio_forbid_flagged: bool = True
    # desktop export of a flagged (blurred) result: ask first, or refuse
    flagged_export: Literal["ask", "refuse"] = "ask"

    @property
    def analytics_enabled(self) -> bool:
        return self.analytics_consent is True and not self.analytics_opt_out

    @property
    def analytics_asked(self) -> bool:
        return self.analytics_consent is not None or self.analytics_opt_out

    def with_analytics(self, allowed: bool) -> Settings:
        return self.model_copy(
            update={"analytics_consent": allowed, "analytics_opt_out": not allowed}
        )


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
