"""The fast autoencoder option: the tiny autoencoder encodes the photo and decodes the
result in place of the model's VAE, when asked for and installed, and says so."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from photoflux_desktop.engine.diffusion.cache import PipelineCache
from photoflux_desktop.engine.diffusion.renderer import DiffusionRenderer
from photoflux_desktop.engine.local_renderer import LocalRenderer
from photoflux_desktop.engine.request import RenderRequest, Status
from photoflux_desktop.engine.settings import Settings, save_settings
from tests.engine.diffusion_fixtures import install_as
from tests.engine.test_diffusion_renderer import render, request_for


@pytest.fixture
def renderer() -> DiffusionRenderer:
    return DiffusionRenderer(PipelineCache(budget_bytes=2**30))


@pytest.fixture
def taesd_installed(tiny_models) -> Path:
    return install_as(tiny_models["taesd"], Path(os.environ["PHOTOFLUX_MODELS_DIR"]), "taesd")


def test_the_tiny_autoencoder_makes_the_image_when_asked(
    tiny_models, small_photo, renderer, taesd_installed
):
    full = render(renderer, request_for(small_photo, tiny_models["sd"]))
    fast = render(renderer, request_for(small_photo, tiny_models["sd"], fast_vae=True))
    assert fast.status is Status.COMPLETED and fast.image.size == small_photo.size
    assert (full.parameters.autoencoder, fast.parameters.autoencoder) == ("full", "tiny")
    assert np.abs(np.asarray(full.image, float) - np.asarray(fast.image, float)).mean() > 1
    again = render(renderer, request_for(small_photo, tiny_models["sd"]))  # cache kept its VAE
    assert again.parameters.autoencoder == "full"
    assert np.array_equal(np.asarray(again.image), np.asarray(full.image))


def test_text_to_image_decodes_with_it_too(tiny_models, renderer, taesd_installed):
    req = RenderRequest(
        image=None, style_id="comic", prompt="a cat", model=str(tiny_models["sd"]),
        steps=2, seed=1, width=64, height=64, fast_vae=True,
    )  # fmt: skip
    result = render(renderer, req)
    assert result.parameters.autoencoder == "tiny" and result.image.size == (64, 64)


def test_without_one_installed_the_full_vae_runs_with_a_note(tiny_models, small_photo, renderer):
    result = render(renderer, request_for(small_photo, tiny_models["sd"], fast_vae=True))
    assert result.status is Status.COMPLETED and result.parameters.autoencoder == "full"
    assert any("fast autoencoder is not installed" in note for note in result.notes)


def test_flux_says_it_is_not_available(tiny_models, small_photo, renderer, taesd_installed):
    result = render(renderer, request_for(small_photo, tiny_models["flux"], fast_vae=True))
    assert result.parameters.autoencoder == "full"
    assert any("not available for FLUX" in note for note in result.notes)


def test_the_setting_turns_it_on_for_every_render(tiny_models, small_photo, taesd_installed):
    save_settings(Settings(fast_vae=True))
    result = LocalRenderer().render(request_for(small_photo, tiny_models["sd"], backend="torch"))
    assert result.parameters.autoencoder == "tiny"


def test_the_flag_travels_on_the_wire_only_when_set(small_photo):
    data, _ = RenderRequest(image=small_photo, style_id="comic", fast_vae=True).to_wire()
    assert data["fast_vae"] is True
    assert "fast_vae" not in RenderRequest(image=small_photo, style_id="comic").to_wire()[0]
