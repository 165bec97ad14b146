"""The engine's only doors to OpenCV and the diffusion stack from code the window imports.

The desktop window imports engine modules at start; OpenCV, torch, diffusers and
transformers must load only when a render first needs them. Code reachable from the
ui reaches them through the functions here, and the ui's import-linter contract
(pyproject.toml) ignores exactly the imports in this module, so any other new import
path from the ui to those libraries fails `lint-imports`. The imports below must stay
inside the functions: tests/ui/test_startup_imports.py checks at run time that a shown
window has loaded none of them.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from photoflux_desktop.engine.camera import CameraFeed, CameraSource
    from photoflux_desktop.engine.devices import DeviceInfo
    from photoflux_desktop.engine.diffusion.renderer import DiffusionRenderer
    from photoflux_desktop.engine.openvino.renderer import OpenVinoRenderer


def opencv() -> ModuleType:
    """cv2, imported on the first instant style (~100 ms of import)."""
    import cv2

    return cv2


def diffusion_renderer(models_dir: Path | None = None) -> DiffusionRenderer:
    """A new diffusion renderer; torch, diffusers and transformers load here."""
    from photoflux_desktop.engine.diffusion.renderer import DiffusionRenderer

    return DiffusionRenderer(models_dir=models_dir)


def openvino_renderer(models_dir: Path | None = None, threads: int = 0) -> OpenVinoRenderer:
    """A new OpenVINO diffusion renderer; torch, diffusers and openvino load here."""
    from photoflux_desktop.engine.openvino.renderer import OpenVinoRenderer

    return OpenVinoRenderer(models_dir=models_dir, threads=threads)


def camera_feed(source: CameraSource) -> CameraFeed:
    """A running camera feed (kiosk mode); OpenCV loads here, when the camera page opens.

    A string is read as in settings: digits are a device index, anything else a video file.
    """
    from photoflux_desktop.engine.camera import CameraFeed, parse_source

    return CameraFeed(parse_source(source) if isinstance(source, str) else source)


def detect_device(requested: str = "auto") -> DeviceInfo:
    """The render device as torch sees it (engine/devices.py); torch loads here."""
    from photoflux_desktop.engine.devices import detect_device as detect

    return detect(requested)


def training() -> ModuleType:
    """The training engine for the "Teach a subject" dialog (engine/training/facade.py);
    OpenCV, dlib and torch load here, when the dialog first needs them."""
    from photoflux_desktop.engine.training import facade

    return facade
