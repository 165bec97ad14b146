from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from photoflux_desktop.engine.errors import PhotoFluxError
from photoflux_desktop.engine.instant_styles import INSTANT_STYLES, apply_instant_style


@pytest.fixture(scope="module")
def portrait() -> Image.Image:
    from tests.conftest import DATA

    with Image.open(DATA / "astronaut.png") as im:
        return im.convert("RGB").resize((256, 256))


def test_at_least_six_looks():
    assert len(INSTANT_STYLES) >= 6


@pytest.mark.parametrize("style_id", sorted(INSTANT_STYLES))
def test_each_look_changes_the_photo_and_keeps_its_shape(portrait, style_id):
    out = apply_instant_style(portrait, style_id, seed=3)
    assert out.size == portrait.size and out.mode == "RGB"
    difference = np.abs(np.asarray(out, np.int16) - np.asarray(portrait, np.int16)).mean()
    assert difference > 8, f"{style_id} barely changed the photo ({difference:.1f})"
    again = apply_instant_style(portrait, style_id, seed=3)
    assert np.array_equal(np.asarray(out), np.asarray(again)), "same seed, same image"


def test_odd_sizes_work():
    odd = Image.new("RGB", (33, 71), (120, 80, 40))
    for style_id in INSTANT_STYLES:
        assert apply_instant_style(odd, style_id).size == (33, 71)


def test_amount_blends_with_the_original(portrait):
    none = apply_instant_style(portrait, "vintage", amount=0.0)
    assert np.array_equal(np.asarray(none), np.asarray(portrait))
    half = np.asarray(apply_instant_style(portrait, "vintage", amount=0.5), np.float32)
    full = np.asarray(apply_instant_style(portrait, "vintage", amount=1.0), np.float32)
    original = np.asarray(portrait, np.float32)
    assert np.abs(half - original).mean() < np.abs(full - original).mean()


def test_unknown_style_and_bad_amount():
    image = Image.new("RGB", (64, 64))
    with pytest.raises(PhotoFluxError, match="Unknown instant style"):
        apply_instant_style(image, "laser")
    with pytest.raises(PhotoFluxError, match=r"outside 0\.\.1"):
        apply_instant_style(image, "vintage", amount=2.0)
