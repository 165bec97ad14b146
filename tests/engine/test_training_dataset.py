"""Preparing photos for training: the checks a user sees before any training starts."""

from __future__ import annotations

import pytest
from PIL import Image, ImageFilter

from photoflux_desktop.engine.devices import DeviceInfo
from photoflux_desktop.engine.errors import PhotoFluxError
from photoflux_desktop.engine.training.dataset import (
    DatasetOptions,
    prepare_dataset,
    require_enough,
    write_dataset,
)
from photoflux_desktop.engine.training.presets import choose_preset, presets_for
from tests.conftest import DATA

# crops of the portrait in which the face detector finds exactly one face
FACE_CROPS = ((0, 0, 400, 400), (50, 20, 450, 420))


def _portrait() -> Image.Image:
    with Image.open(DATA / "astronaut.png") as im:
        return im.convert("RGB")


def test_checks_flag_a_duplicate_a_blurred_and_a_faceless_photo(tmp_path):
    portrait = _portrait()
    portrait.crop(FACE_CROPS[0]).save(tmp_path / "1-good.png")
    portrait.crop(FACE_CROPS[1]).save(tmp_path / "2-good.png")
    # the same picture again, smaller and re-encoded: a near-duplicate, not a twin file
    portrait.crop(FACE_CROPS[0]).resize((300, 300)).save(tmp_path / "3-copy.jpg", quality=80)
    portrait.crop(FACE_CROPS[1]).filter(ImageFilter.GaussianBlur(4)).save(tmp_path / "4-blur.png")
    with Image.open(DATA / "chelsea.jpg") as cat:
        cat.convert("RGB").save(tmp_path / "5-cat.png")
    (tmp_path / "1-good.txt").write_text("smiling, in a space suit\n", encoding="utf-8")

    dataset = prepare_dataset(tmp_path, DatasetOptions(token="zqx", resolution=256))

    issues = {r.path.rsplit("/", 1)[1]: [i.code for i in r.issues] for r in dataset.reports}
    assert issues["1-good.png"] == [] and issues["2-good.png"] == []
    assert "duplicate" in issues["3-copy.jpg"]
    assert "blurred" in issues["4-blur.png"]
    assert "no_face" in issues["5-cat.png"]
    assert all(i.advice for r in dataset.reports for i in r.issues)
    assert [item.source.rsplit("/", 1)[1] for item in dataset.items] == [
        "1-good.png",
        "2-good.png",
    ]
    # captions: the user's sidecar gets the token and class put first; others the template
    assert dataset.items[0].caption == "zqx person, smiling, in a space suit"
    assert dataset.items[1].caption == "a photo of zqx person"
    assert all(item.image.size == (256, 256) for item in dataset.items)
    # two usable photos are too few: refused with every left-out photo's reason
    with pytest.raises(PhotoFluxError) as refused:
        require_enough(dataset)
    assert refused.value.error.kind.exit_code == 2
    assert "4-blur.png" in refused.value.error.message

    # a cat is not a person: no face needed; three usable photos are "fewer than ideal"
    cats = prepare_dataset(tmp_path, DatasetOptions(class_word="cat", resolution=256))
    assert [i.code for r in cats.reports if r.path.endswith("5-cat.png") for i in r.issues] == []
    assert any("fewer than ideal" in note for note in cats.notes)
    require_enough(cats)
    written = write_dataset(cats, tmp_path / "prepared")
    assert sorted(p.name for p in written.iterdir())[:2] == ["000.png", "000.txt"]


def test_presets_follow_the_device_and_never_offer_what_cannot_run():
    cpu = DeviceInfo(kind="cpu", name="CPU")
    assert [p.name for p in presets_for(cpu, "sd")] == ["cpu"]
    sd_cpu = choose_preset(cpu, "sd")
    assert sd_cpu.optimizer == "adamw" and sd_cpu.mixed_precision == "no"
    assert sd_cpu.expected_minutes and sd_cpu.expected_minutes > 0
    with pytest.raises(PhotoFluxError):
        choose_preset(cpu, "flux")  # days on a CPU: refused, not offered
    big = DeviceInfo(kind="cuda", name="RTX 4090", total_gb=24.0, free_gb=23.0, bf16=True)
    flux = choose_preset(big, "flux")
    assert flux.name == "24gb" and flux.mixed_precision == "bf16"
    assert flux.quantize_base == "int8" and flux.gradient_checkpointing is False
    small = DeviceInfo(kind="cuda", name="RTX 3060", total_gb=12.0, free_gb=11.0, bf16=True)
    assert [p.name for p in presets_for(small, "flux")] == ["12gb"]
    assert [p.name for p in presets_for(small, "sdxl")] == ["8gb", "12gb"]
    try:
        import bitsandbytes  # noqa: F401

        eight_bit = True
    except ImportError:
        eight_bit = False
    assert (choose_preset(big, "sd").optimizer == "adamw8bit") is eight_bit
