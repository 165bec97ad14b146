"""Generate mode (text-to-image) and the adapter picker, driven as a user would."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from photoflux_desktop.engine.training.adapters import AdapterInfo, adapter_metadata
from photoflux_desktop.engine.verify import verify_image
from tests.ui.test_export_record import answer_export_dialog
from tests.ui.test_style_grid import click_tile


def library_adapter(name: str, family: str, token: str, tensors: dict | None = None) -> Path:
    """An adapter in the user's adapter library, as `photoflux train` leaves it."""
    from safetensors.numpy import save_file as save_numpy
    from safetensors.torch import save_file as save_torch

    library = Path(os.environ["PHOTOFLUX_DATA_DIR"]) / "adapters"
    library.mkdir(parents=True, exist_ok=True)
    info = AdapterInfo(name, "", family, "tiny", token, "robot", 10, 4, "2026-01-01", "", None)
    path = library / f"{name}.safetensors"
    meta = adapter_metadata(info, None)
    if tensors:  # a real LoRA (torch tensors)
        save_torch(tensors, str(path), meta)
    else:  # enough for the picker, which reads headers only
        save_numpy({"x": np.zeros(1, np.float32)}, str(path), meta)
    return path


@pytest.fixture
def tiny_sd_model(window, tiny_models):
    window.params.set_model(str(tiny_models["sd"]))  # a folder: its own (tiny) native size
    window.params.steps.setValue(1)
    return tiny_models["sd"]


def test_generate_mode_makes_a_picture_without_a_photo_and_keeps_each_modes_state(
    qtbot, window, tiny_sd_model, tmp_path, astronaut_path
):
    from safetensors.torch import load_file

    from tests.engine.lora_fixture import make_tiny_sd_lora

    lora = make_tiny_sd_lora(tiny_sd_model, tmp_path / "lora")
    library_adapter("rob", "sd", "zqx", load_file(str(lora)))
    window.adapters.refresh_adapters()
    assert window.open_photo(str(astronaut_path))
    window.actions_by_name["generate_mode"].trigger()
    assert window.generate.active and window.generate.generate_button.isChecked()
    assert window.photo is None and window.compare.before is None
    assert window.progress.render_button.text() == "Generate"
    window.gallery.select("anime")
    QTest.keyClicks(window.params.prompt, "a lighthouse")
    assert window.adapters.choose_adapter("rob")
    assert window.generate.full_prompt.text().startswith("anime illustration of zqx robot")
    with qtbot.waitSignal(window.resultShown, timeout=120000) as blocker:
        qtbot.mouseClick(window.progress.render_button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    assert result.parameters.mode == "text-to-image"
    assert "zqx robot, a lighthouse" in result.parameters.prompt
    assert result.parameters.loras  # the adapter went in as a LoRA
    assert window.compare.after is not None and window.compare.mode.value == "after"
    target = tmp_path / "generated.png"
    answer_export_dialog(target, [])
    window.actions_by_name["export"].trigger()
    report = verify_image(target)
    # the tiny model's picture is too small for the invisible watermark to be read back
    assert report.made_by_photoflux and report.metadata["style"] == "anime"
    assert report.metadata["mode"] == "text-to-image"
    # back to Photo: its photo and compare view return; Generate keeps its result
    qtbot.mouseClick(window.generate.photo_button, Qt.MouseButton.LeftButton)
    assert window.photo is not None and window.compare.before is not None
    assert window.progress.render_button.text() == "Render"
    window.actions_by_name["generate_mode"].trigger()
    assert window.photo is None and window.result is result


def test_instant_looks_are_explained_not_applied_in_generate_mode(qtbot, window, tiny_sd_model):
    window.actions_by_name["generate_mode"].trigger()
    click_tile(qtbot, window, "watercolor")
    assert "instant look for photos" in window.progress.status_text()
    assert "Generate" in window.compare.placeholder
    assert not window.controller.busy and window.result is None
    window.params.set_model("instant")  # the instant engine cannot generate: said, not run
    window.render()
    assert window.banner.isVisible() and "photo" in window.banner.text.text()
    assert not window.controller.busy


def test_adapters_are_picked_completed_and_refused_for_another_family(qtbot, window, tiny_sd_model):
    library_adapter("rob", "sd", "zqx")
    library_adapter("big", "sdxl", "bgx")
    window.adapters.refresh_adapters()
    picker = window.adapters
    rows = {
        picker.list.item(i).data(Qt.ItemDataRole.UserRole): picker.list.item(i) for i in range(2)
    }
    assert rows["rob"].flags() & Qt.ItemFlag.ItemIsEnabled
    assert not rows["big"].flags() & Qt.ItemFlag.ItemIsEnabled
    assert "SDXL" in rows["big"].text() and "SDXL" in rows["big"].toolTip()
    assert not picker.choose_adapter("big")
    assert picker.choose_adapter("rob") and picker.chosen_names() == ["rob"]
    # the prompt's autocompletion knows the tokens, refreshed with the library
    prompt = window.params.prompt
    prompt.setFocus()
    QTest.keyClicks(prompt, "zq")
    completer = prompt.completer()
    found = [completer.completionModel().index(i, 0).data() for i in range(3)]
    assert "zqx robot" in found
    library_adapter("new", "sd", "nwq")
    picker.refresh_adapters()
    prompt.clear()
    QTest.keyClicks(prompt, "nw")
    assert completer.completionModel().index(0, 0).data() in ("nwq", "nwq robot")
