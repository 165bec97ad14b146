"""The style-consistency check: renders near their style's signature pass, others are
flagged with a reason, and styles without real reference renders are skipped honestly."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from photoflux_desktop.engine.checks.style import (
    NAME,
    check_style_consistency,
    load_signatures,
    signatures_path,
)
from photoflux_desktop.engine.checks.style_features import FEATURES
from photoflux_desktop.engine.instant_styles import apply_instant_style
from photoflux_desktop.engine.local_renderer import LocalRenderer
from photoflux_desktop.engine.presets import bundled_presets, get_preset
from photoflux_desktop.engine.request import RenderRequest


def _look(photo: Image.Image, style_id: str, seed: int = 3) -> Image.Image:
    preset = get_preset(style_id)
    return apply_instant_style(photo, preset.instant.style, preset.instant.amount, seed)


def test_every_preset_has_an_instant_signature_and_no_invented_diffusion_one():
    data = json.loads(signatures_path().read_text(encoding="utf-8"))
    assert data["features"] == list(FEATURES)  # made by the feature code that reads it
    assert not load_signatures().get("stale")
    for style_id in bundled_presets():
        entry = data["styles"][style_id]
        assert entry["instant"]["renders"] >= 8 and entry["instant"]["threshold"] > 0
        # a diffusion signature may only come from real renders of a named model
        if "diffusion" in entry:
            assert entry["diffusion"]["model"] != "unknown"
            assert entry["diffusion"]["renders"] >= 8


def test_a_render_in_its_own_style_passes_on_a_new_framing_of_a_photo(astronaut):
    # mirrored and cropped: a framing the reference renders did not have
    photo = ImageOps.mirror(astronaut).crop((40, 20, 500, 480))
    for style_id in ("watercolor", "pencil-sketch", "pop-art", "vintage-film"):
        result = check_style_consistency(_look(photo, style_id), style_id, "instant")
        assert result.name == NAME and not result.skipped
        assert result.passed, (style_id, result.reason)
        assert result.value < result.threshold


def test_an_image_far_from_its_style_is_flagged_with_a_reason(astronaut):
    plain = check_style_consistency(astronaut, "pencil-sketch", "instant")
    assert not plain.passed and plain.value > plain.threshold
    assert "Does not look like the style's reference renders" in plain.reason
    wrong = check_style_consistency(_look(astronaut, "pencil-sketch"), "pop-art", "instant")
    assert not wrong.passed


def test_styles_without_real_reference_renders_are_skipped_not_guessed(astronaut):
    result = check_style_consistency(_look(astronaut, "anime"), "anime", "diffusion")
    assert result.skipped and result.passed and result.value is None
    assert "no reference renders from a diffusion model" in result.reason
    unknown = check_style_consistency(astronaut, None, "instant")
    assert unknown.skipped and "does not say which style" in unknown.reason


def test_every_render_carries_a_timed_style_check(astronaut):
    request = RenderRequest(image=astronaut, style_id="comic", model="instant", seed=1)
    result = LocalRenderer().render(request)
    check = next(c for c in result.checks if c["name"] == NAME)
    assert check["passed"] and not check["skipped"] and check["time_s"] > 0
    assert {c["name"] for c in result.checks} >= {"blur", "clipping", NAME}


def test_a_weakened_instant_render_says_why_it_is_off_style(astronaut):
    weak = apply_instant_style(astronaut, "pencil-sketch", 0.4, 0)
    result = check_style_consistency(weak, "pencil-sketch", "instant", strength=0.4)
    assert not result.passed and "strength 0.40, weaker than the reference" in result.reason


def _signature_script():
    path = Path(__file__).resolve().parents[2] / "scripts" / "make_style_signatures.py"
    spec = importlib.util.spec_from_file_location("make_style_signatures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_diffusion_signature_comes_only_from_a_folder_of_real_renders(tmp_path, astronaut):
    script = _signature_script()
    out = tmp_path / "signatures.json"
    shutil.copy(signatures_path(), out)
    renders = tmp_path / "renders"
    renders.mkdir()

    def add_renders(numbers: range) -> None:
        # stand-ins for renders a real model made: varied crops of one look
        for i in numbers:
            crop = astronaut.crop((i * 20, 0, 512, 512 - i * 20))
            _look(crop, "anime", i).save(renders / f"r{i}.png")

    add_renders(range(3))
    with pytest.raises(SystemExit, match="at least 8 real renders"):
        script.make_diffusion(renders, "anime", "my-sdxl", out)
    add_renders(range(3, 10))
    script.make_diffusion(renders, "anime", "my-sdxl", out)
    data = json.loads(out.read_text())
    assert data["styles"]["anime"]["diffusion"]["model"] == "my-sdxl"
    assert data["styles"]["anime"]["diffusion"]["renders"] == 10
    result = check_style_consistency(_look(astronaut, "anime"), "anime", "diffusion", data)
    assert not result.skipped and result.passed
