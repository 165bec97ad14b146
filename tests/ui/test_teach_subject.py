"""The "Teach a subject" dialog, driven as a user does: the Tools menu action, photos
added, the checks read, the preset accepted, training watched, stopped and resumed, the
adapter used. A micro SD model at 64 px keeps the real training loop to seconds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image, ImageFilter
from PySide6.QtWidgets import QMessageBox

from photoflux_desktop.engine.training import adapters, dataset, facade
from photoflux_desktop.ui.dialogs import teach_subject
from tests.conftest import DATA
from tests.engine.diffusion_fixtures import install_as

STEPS = 4


@pytest.fixture(scope="module")
def micro_model(tmp_path_factory) -> Path:
    from photoflux_desktop.engine.training.tiny import build_micro_pipeline

    return build_micro_pipeline("sd", tmp_path_factory.mktemp("micro") / "sd")


@pytest.fixture
def photos(tmp_path) -> list[Path]:
    """Four usable crops, one exact duplicate and one blurred copy."""
    with Image.open(DATA / "astronaut.png") as im:
        portrait = im.convert("RGB")
    paths = []
    for index, box in enumerate(((0, 0, 400, 400), (50, 20, 450, 420), (20, 40, 420, 440))):
        path = tmp_path / f"front-{index}.png"
        portrait.crop(box).save(path)
        paths.append(path)
    mirror = tmp_path / "mirror.png"
    portrait.crop((0, 0, 400, 400)).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(mirror)
    duplicate, blurred = tmp_path / "again.png", tmp_path / "blurred.png"
    portrait.crop((0, 0, 400, 400)).save(duplicate)
    portrait.crop((50, 20, 450, 420)).filter(ImageFilter.GaussianBlur(12)).save(blurred)
    return [*paths, mirror, duplicate, blurred]


@pytest.fixture
def teach(window, qtbot, micro_model, monkeypatch):
    installed = install_as(micro_model, Path(os.environ["PHOTOFLUX_MODELS_DIR"]), "sd-turbo")
    window.params.set_model(str(installed))  # the window started before it was installed
    real = facade.device_presets
    # this machine's preset, at the micro model's size so the loop runs in seconds
    monkeypatch.setattr(
        facade,
        "device_presets",
        lambda family: [facade.with_overrides(p, resolution=64) for p in real(family)],
    )
    window.actions_by_name["teach"].trigger()
    dialog = window._teach_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    return dialog


def _checked(dialog, qtbot) -> None:
    qtbot.waitUntil(lambda: dialog.jobs and not dialog.jobs[-1].running, timeout=60000)
    qtbot.waitUntil(lambda: "usable" in dialog.count_note.text(), timeout=10000)


def test_the_dialog_s_defaults_are_the_engine_s():
    assert teach_subject.DEFAULT_TOKEN == dataset.DEFAULT_TOKEN
    assert teach_subject.MIN_PHOTOS == dataset.MIN_PHOTOS
    assert teach_subject.IDEAL_PHOTOS == dataset.IDEAL_PHOTOS


def test_photos_are_checked_one_by_one_and_too_few_block_next(teach, qtbot, photos):
    teach.name.setText("anna")
    teach.class_word.setCurrentText("robot")  # no face checks: the astronaut is a crop
    teach.add_photos(photos[:2])
    _checked(teach, qtbot)
    assert not teach.next.isEnabled()
    assert "add at least 1 more" in teach.count_note.text()
    teach.add_photos(photos[2:])
    _checked(teach, qtbot)
    rows = [teach.photo_list.item(i).text() for i in range(teach.photo_list.count())]
    assert len(rows) == 6
    flagged = {row.splitlines()[0]: row for row in rows if not row.startswith("✓")}
    assert any("again.png" in name for name in flagged)  # the duplicate
    assert any("blurred.png" in name for name in flagged)
    assert "duplicate" in " ".join(flagged.values()).lower()
    assert teach.next.isEnabled()


def test_train_stop_resume_and_use_the_adapter(teach, qtbot, photos, window, monkeypatch):
    teach.name.setText("robo")
    teach.class_word.setCurrentText("robot")
    teach.add_photos(photos[:5])
    _checked(teach, qtbot)
    teach.next.click()  # to the preset page
    qtbot.waitUntil(lambda: teach.preset_box.count() > 0, timeout=60000)
    assert "Expected time" in teach.preset_text.text()
    teach.steps.setValue(STEPS)
    stopped = []

    def stop_at_step_two(event) -> None:
        if event.stage == "training" and event.step >= 2 and not stopped:
            stopped.append(event.step)
            teach.cancel_button.click()

    teach.runner.event.connect(stop_at_step_two)
    teach.next.click()  # Start training
    qtbot.waitUntil(teach.resume_button.isVisible, timeout=120000)
    assert "checkpoint is kept" in teach.status.text() and teach.has_checkpoint()
    assert len(teach.chart.losses) >= 2
    teach.runner.event.disconnect(stop_at_step_two)
    teach.resume_button.click()
    qtbot.waitUntil(lambda: teach.pages.currentIndex() == 3, timeout=120000)
    assert teach.outcome.status == "done" and teach.outcome.resumed_from is not None
    assert "robo" in [a.name for a in adapters.list_adapters()]
    assert "ohwx robot" in teach.done_text.text()
    assert "robo" in window.adapters.infos  # the picker re-read the library
    teach.use_button.click()
    assert not teach.isVisible()
    assert window.generate.active and "robo" in [a.name for a in window.adapters.chosen()]


def test_closing_while_training_asks_and_cancels(teach, qtbot, photos, monkeypatch):
    teach.name.setText("closer")
    teach.class_word.setCurrentText("robot")
    teach.add_photos(photos[:4])
    _checked(teach, qtbot)
    teach.next.click()
    qtbot.waitUntil(lambda: teach.preset_box.count() > 0, timeout=60000)
    teach.steps.setValue(200)
    teach.next.click()
    qtbot.waitUntil(lambda: bool(teach.chart.losses), timeout=60000)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    teach.close()
    assert not teach.runner.running
