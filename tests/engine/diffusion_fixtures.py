"""Tiny random-weight pipelines built once per test session (never downloaded)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from photoflux_desktop.engine.diffusion.tiny_models import (
    build_tiny_pipeline,
    build_tiny_preview_decoder,
)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny-models")
    folders = {
        family: build_tiny_pipeline(family, root / family) for family in ("sd", "sdxl", "flux")
    }
    folders["taesd"] = build_tiny_preview_decoder(root / "taesd")
    return folders


@pytest.fixture
def small_photo() -> Image.Image:
    from tests.conftest import DATA

    with Image.open(DATA / "astronaut.png") as im:
        return im.convert("RGB").resize((96, 64), Image.LANCZOS)


def install_as(folder: Path, models_dir: Path, model_id: str) -> Path:
    """Copy a tiny pipeline where `photoflux models download` would have put it."""
    target = models_dir / model_id
    shutil.copytree(folder, target)
    return target
