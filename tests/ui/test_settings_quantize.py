"""Settings ▸ Quantization offers OpenVINO's w8a8 only where OpenVINO renders, and the
choice reaches the window's next render request and the settings file."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog

from photoflux_desktop.engine.machine import DeviceOption
from photoflux_desktop.engine.settings import Settings, load_settings
from photoflux_desktop.ui.dialogs import settings_dialog

pytest.importorskip("openvino")
pytest.importorskip("nncf")

CPU = [DeviceOption("auto", "Automatic (CPU)", ""), DeviceOption("cpu", "Processor (CPU)", "")]
NVIDIA = [
    DeviceOption("auto", "Automatic (NVIDIA GPU)", ""),
    DeviceOption("cuda", "RTX", ""),
    *CPU[1:],
]


def _modes(dialog: settings_dialog.SettingsDialog) -> list[str]:
    return [dialog.quantize.itemData(i) for i in range(dialog.quantize.count())]


def test_w8a8_is_offered_without_a_gpu_only(qtbot):
    on_cpu = settings_dialog.SettingsDialog(Settings(), devices=CPU)
    qtbot.addWidget(on_cpu)
    assert _modes(on_cpu) == ["none", "int8", "fp8", "int4", "w8a8"]
    assert "w8a8" in on_cpu.quantize.toolTip() and "CPU" in on_cpu.quantize.toolTip()
    on_gpu = settings_dialog.SettingsDialog(Settings(), devices=NVIDIA)
    qtbot.addWidget(on_gpu)
    assert "w8a8" not in _modes(on_gpu)
    apple = [
        DeviceOption("auto", "Automatic (Apple GPU)", ""),
        DeviceOption("mps", "Apple GPU", ""),
    ]
    on_mac = settings_dialog.SettingsDialog(Settings(), devices=[*apple, *CPU[1:]])
    qtbot.addWidget(on_mac)
    assert "w8a8" not in _modes(on_mac)  # torch renders on the Apple GPU
    # a file that already says w8a8 keeps showing it rather than silently changing it
    kept = settings_dialog.SettingsDialog(Settings(quantize="w8a8"), devices=NVIDIA)
    qtbot.addWidget(kept)
    assert kept.quantize.currentData() == "w8a8"


def test_choosing_w8a8_through_the_menu_reaches_the_next_render(
    qtbot, window, monkeypatch, astronaut_path
):
    def choose_w8a8(dialog):
        dialog.quantize.setCurrentIndex(dialog.quantize.findData("w8a8"))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(settings_dialog.SettingsDialog, "exec", choose_w8a8)
    monkeypatch.setattr(settings_dialog, "device_options", lambda best: CPU)
    window.actions_by_name["settings"].trigger()
    assert window.settings.quantize == "w8a8"
    assert load_settings()[0].quantize == "w8a8"  # saved
    window.open_photo(str(astronaut_path))
    request = window.build_request()
    assert request is not None and request.quantize.value == "w8a8"
