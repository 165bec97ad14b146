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


def test_every_preset_has_its_own_recognisable_look(portrait):
    """Honest styles: no two presets may hide the same filter behind different names."""
    import itertools

    from photoflux_desktop.engine.presets import bundled_presets

    looks = {
        preset.id: np.asarray(
            apply_instant_style(portrait, preset.instant.style, preset.instant.amount, seed=0),
            np.float32,
        )
        for preset in bundled_presets().values()
    }
    styles = [preset.instant.style for preset in bundled_presets().values()]
    assert len(set(styles)) == len(styles), "two presets share one instant filter"
    for a, b in itertools.combinations(looks, 2):
        difference = np.abs(looks[a] - looks[b]).mean()
        assert difference > 12, f"{a} and {b} look alike ({difference:.1f} mean difference)"


def test_look_previews_are_square_and_stop_when_cancelled(portrait):
    from photoflux_desktop.engine.instant_renderer import PREVIEW_SEED, look_previews
    from photoflux_desktop.engine.presets import bundled_presets
    from photoflux_desktop.engine.request import CancelToken

    wide = portrait.resize((300, 180))
    presets = list(bundled_presets().values())
    previews = dict(look_previews(wide, presets, side=64))
    assert list(previews) == [preset.id for preset in presets]
    assert all(image.size == (64, 64) for image in previews.values())
    # the preview is the look itself, as a click will apply it
    first = presets[0]
    from photoflux_desktop.engine.instant_styles import scale_thumbnail

    expected = apply_instant_style(
        scale_thumbnail(wide, 64), first.instant.style, first.instant.amount, PREVIEW_SEED
    )
    assert np.array_equal(np.asarray(previews[first.id]), np.asarray(expected))
    cancel = CancelToken()
    seen = []
    for style_id, _ in look_previews(wide, presets, side=64, cancel=cancel):
        seen.append(style_id)
        cancel.cancel()
    assert seen == [presets[0].id]
