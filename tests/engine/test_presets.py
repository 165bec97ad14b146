from __future__ import annotations

import json
import shutil

import pytest

from photoflux_desktop.engine.errors import ErrorKind, PhotoFluxError
from photoflux_desktop.engine.presets import (
    PresetError,
    bundled_presets,
    categories,
    get_preset,
    load_presets,
    presets_dir,
)


def test_bundled_presets_are_valid_and_plentiful():
    presets = bundled_presets()
    assert len(presets) >= 12
    for preset in presets.values():
        assert preset.instant is not None  # every preset works with zero downloads
        assert set(preset.defaults) == {"sd", "sdxl", "flux"}
        assert "{subject}" in preset.prompt
        assert preset.kind in ("instant", "ai") and preset.category


def test_styles_are_badged_and_grouped_as_data():
    presets = bundled_presets()
    kinds = {preset.kind for preset in presets.values()}
    assert kinds == {"instant", "ai"}  # both kinds of tile exist
    assert len(categories(presets)) >= 3
    assert categories(presets) == sorted(set(categories(presets)))


def test_prompt_template_uses_subject_or_a_default():
    preset = get_preset("watercolor")
    assert "a red bicycle" in preset.render_prompt("a red bicycle")
    assert "{subject}" not in preset.render_prompt("")


def test_unknown_style_is_bad_input():
    with pytest.raises(PhotoFluxError) as caught:
        get_preset("no-such-style")
    assert caught.value.error.kind is ErrorKind.BAD_INPUT
    assert "photoflux styles" in caught.value.error.hint


@pytest.fixture
def preset_copy(tmp_path):
    folder = tmp_path / "presets"
    folder.mkdir()
    shutil.copy(presets_dir() / "watercolor.json", folder / "watercolor.json")
    return folder / "watercolor.json"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["defaults"]["sd"].update(strength=1.5), "field 'defaults.sd.strength'"),
        (lambda d: d["defaults"].pop("flux"), "missing defaults for model families ['flux']"),
        (lambda d: d.update(prompt="no placeholder"), "field 'prompt'"),
        (lambda d: d["instant"].update(style="laser"), "unknown instant style 'laser'"),
        (lambda d: d.update(colour="red"), "field 'colour'"),
        (lambda d: d.update(id="other"), "must match the file name"),
        (lambda d: d.update(thumbnail="missing.jpg"), "no file 'missing.jpg'"),
        (lambda d: d.update(kind="magic"), "field 'kind'"),
        (lambda d: d.pop("category"), "field 'category'"),
        (lambda d: d.update(instant=None), "kind 'instant' needs an 'instant' look"),
    ],
)
def test_broken_preset_names_file_and_field(preset_copy, mutate, expected):
    data = json.loads(preset_copy.read_text())
    mutate(data)
    preset_copy.write_text(json.dumps(data))
    with pytest.raises(PresetError) as caught:
        load_presets(preset_copy.parent)
    assert str(caught.value).startswith("watercolor.json")
    assert expected in str(caught.value)


def test_unreadable_json(preset_copy):
    preset_copy.write_text("{ not json")
    with pytest.raises(PresetError, match=r"watercolor.json: not readable JSON"):
        load_presets(preset_copy.parent)
