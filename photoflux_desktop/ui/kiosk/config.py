"""What the operator chose for a kiosk, in the units the screens use (milliseconds).

Built from Settings for the real app; tests build one directly with short timings.
"""

from __future__ import annotations

from dataclasses import dataclass

from photoflux_desktop.engine.presets import bundled_presets
from photoflux_desktop.engine.settings import Settings

# a default set when the operator picked none: looks that read well on faces, each with
# an instant version so the kiosk works before any model is downloaded
DEFAULT_STYLES = ("comic", "pop-art", "watercolor", "pencil-sketch")
MAX_STYLES = 8


@dataclass(frozen=True)
class KioskConfig:
    styles: tuple[str, ...] = DEFAULT_STYLES
    camera: str = "0"  # a device index or a video file (settings' text form)
    campaign: str | None = None
    model: str | None = None  # None: the best installed model, else instant
    idle_timeout_ms: int = 60_000
    countdown_s: int = 3
    countdown_tick_ms: int = 1000
    attract_interval_ms: int = 4000
    reveal_ms: int = 1400
    max_side: int = 1024
    analytics: bool = True
    cloud_url: str | None = None  # set only when linked to a studio: QR codes need it
    device: str = "auto"
    memory: str = "auto"
    quantize: str = "none"


def chosen_styles(ids: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The operator's styles that exist, in their order; the default set when none do."""
    known = bundled_presets()
    picked = tuple(dict.fromkeys(i for i in ids if i in known))[:MAX_STYLES]
    return picked or tuple(i for i in DEFAULT_STYLES if i in known)


def config_from_settings(settings: Settings, cloud_url: str | None = None) -> KioskConfig:
    """`cloud_url`: the linked studio's address (sync.link), None when not linked."""
    return KioskConfig(
        cloud_url=cloud_url,
        styles=chosen_styles(settings.kiosk_styles),
        camera=settings.kiosk_camera,
        campaign=settings.kiosk_campaign or None,
        model=None if settings.kiosk_model in ("", "auto") else settings.kiosk_model,
        idle_timeout_ms=settings.kiosk_idle_timeout_s * 1000,
        countdown_s=settings.kiosk_countdown_s,
        analytics=settings.analytics_enabled,
        device=settings.device,
        memory=settings.memory,
        quantize=settings.quantize,
    )
