"""Shared fixtures. Every test runs with private user folders and the hub offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

DATA = Path(__file__).parent / "data"

# never touch the real user's folders or the network from a test
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def private_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("user")
    for name in ("DATA", "CONFIG", "CACHE"):
        monkeypatch.setenv(f"PHOTOFLUX_{name}_DIR", str(home / name.lower()))
    monkeypatch.setenv("PHOTOFLUX_MODELS_DIR", str(home / "models"))
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # "auto" would pick OpenVINO on these CPU-only machines and export every tiny model
    # copy; tests of the OpenVINO path ask for it (tests/engine/test_openvino_backend.py)
    monkeypatch.setenv("PHOTOFLUX_BACKEND", "torch")
    return home


@pytest.fixture
def astronaut_path() -> Path:
    return DATA / "astronaut.png"


@pytest.fixture
def rocket_path() -> Path:
    return DATA / "rocket.jpg"


@pytest.fixture
def astronaut() -> Image.Image:
    with Image.open(DATA / "astronaut.png") as im:
        return im.convert("RGB")


from tests.engine.diffusion_fixtures import small_photo, tiny_models  # noqa: E402, F401
