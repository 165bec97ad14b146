"""Where the bundled data files (presets, thumbnails, sample photo) live."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def resources_dir() -> Path:
    """The `resources/` folder, from a checkout, an installed wheel or a frozen build."""
    return Path(str(resources.files("photoflux_resources")))


def sample_photo() -> Path:
    return resources_dir() / "samples" / "portrait.jpg"
