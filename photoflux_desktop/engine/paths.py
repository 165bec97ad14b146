"""Per-user folders (platformdirs), overridable by environment for tests and kiosks.

Precedence for the models folder: a folder the caller passes (the desktop's Settings)
beats PHOTOFLUX_MODELS_DIR, which beats the platform default; the CLI passes none, so
the environment variable configures it.
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import PlatformDirs

_DIRS = PlatformDirs(appname="PhotoFlux", appauthor="PhotoFlux")


def _override(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


def data_dir() -> Path:
    return _override("PHOTOFLUX_DATA_DIR", Path(_DIRS.user_data_dir))


def config_dir() -> Path:
    return _override("PHOTOFLUX_CONFIG_DIR", Path(_DIRS.user_config_dir))


def cache_dir() -> Path:
    return _override("PHOTOFLUX_CACHE_DIR", Path(_DIRS.user_cache_dir))


def models_dir(configured: str | Path | None = None) -> Path:
    if configured:
        return Path(configured).expanduser()
    return _override("PHOTOFLUX_MODELS_DIR", data_dir() / "models")
