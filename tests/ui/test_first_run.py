"""First run: the welcome card's model download (fake hub over loopback), dismissal and
the Help menu, the analytics question, and the layout pieces around them (Advanced
section, Settings' device list, zoom to the cursor and 1:1, the active compare mode).
Everything is driven through the real buttons, actions and events."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication, QDialog

from photoflux_desktop.engine import machine
from photoflux_desktop.engine.machine import MachineInfo
from photoflux_desktop.engine.model_store import is_complete, model_folder
from photoflux_desktop.engine.settings import load_settings

WEIGHTS = "unet/diffusion_pytorch_model.fp16.safetensors"


@pytest.fixture(autouse=True)
def cpu_machine(monkeypatch):
    """The device probe answers at once: a 2-core CPU machine (no torch import)."""
    monkeypatch.setattr(machine, "_probe_cache", [MachineInfo("cpu", "CPU")])
    monkeypatch.setattr(os, "cpu_count", lambda: 2)


def click(qtbot, button) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_welcome_card_downloads_pauses_resumes_and_the_model_appears(qtbot, window, monkeypatch):
    from tests.fake_hub import FakeHub

    weights = os.urandom(1_500_000)
    turbo = {
        "model_index.json": b'{"_class_name": "StableDiffusionPipeline"}',
        "unet/config.json": b"{}",
        WEIGHTS: weights,
    }
    taesd = {"config.json": b"{}", "diffusion_pytorch_model.safetensors": b"x" * 1000}
    card = window.first_run.welcome
    qtbot.waitUntil(lambda: card.isVisible() and card.download_button.isEnabled(), timeout=5000)
    assert card.download_button.text() == "Download"
    offer = card.offer.text()
    assert "2.6 GB" in offer and "about 30 s per image" in offer  # 15 s on 4 cores, 2 here
    assert "CPU" in card.reason.text() and "CPU" in card.offer.toolTip()
    assert "Instant looks work now" in card.instant_line.text()
    folder = model_folder("sd-turbo")
    with FakeHub({"stabilityai/sd-turbo": turbo, "madebyollin/taesd": taesd}) as hub:
        monkeypatch.delenv("HF_HUB_OFFLINE")
        # huggingface_hub read the tests' offline flag when it was first imported
        monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        hub.hold_after[WEIGHTS] = 400_000
        click(qtbot, card.download_button)
        # progress from the bytes written: 400 kB of ~1.5 MB arrived, then the hub holds
        qtbot.waitUntil(lambda: card.bar.value() >= 200, timeout=10000)
        assert "of 1.4 MB" in card.status.text(), card.status.text()
        click(qtbot, card.pause_button)
        hub.release.set()
        qtbot.waitUntil(lambda: card.download_button.text() == "Resume", timeout=10000)
        assert "Paused at" in card.status.text()
        partial = folder / (WEIGHTS + ".part")
        kept = partial.stat().st_size
        assert 300_000 <= kept < len(weights)
        assert not is_complete(folder)  # not offered as installed while partial
        click(qtbot, card.download_button)
        qtbot.waitUntil(lambda: card.close_button.text() == "Done", timeout=20000)
    assert (folder / WEIGHTS).read_bytes() == weights
    assert (WEIGHTS, f"bytes={kept}-") in hub.ranges  # resumed, not started over
    assert "SD-Turbo is installed" in card.offer.text()
    index = window.params.model.findData("sd-turbo")
    assert window.params.model.itemText(index) == "SD-Turbo"  # no "not installed"
    assert window.params.has_diffusion_model()
    window.open_model_manager()
    manager = window._model_manager
    assert manager.table.item(0, 2).text() != "not installed"
    manager.close()


def test_not_now_is_remembered_and_the_help_menu_brings_the_card_back(qtbot, window):
    card = window.first_run.welcome
    qtbot.waitUntil(card.isVisible, timeout=5000)
    click(qtbot, card.close_button)
    assert not card.isVisible()
    assert load_settings()[0].welcome_dismissed
    window.actions_by_name["welcome"].trigger()
    assert card.isVisible()
    assert not load_settings()[0].welcome_dismissed


def close_welcome(qtbot, window) -> None:
    """The analytics question comes once the welcome card is out of the way."""
    card = window.first_run.welcome
    qtbot.waitUntil(card.isVisible, timeout=5000)
    assert not window.first_run.consent.isVisible()
    click(qtbot, card.close_button)


def test_analytics_are_off_until_the_first_run_question_is_answered_yes(qtbot, window):
    consent = window.first_run.consent
    close_welcome(qtbot, window)
    qtbot.waitUntil(consent.isVisible, timeout=5000)
    assert not window.settings.analytics_enabled
    click(qtbot, consent.decline_button)
    assert not consent.isVisible()
    saved = load_settings()[0]
    assert saved.analytics_consent is False and not saved.analytics_enabled
    window.first_run.update_cards(has_diffusion_model=False)
    assert not consent.isVisible()  # asked once


def test_yes_to_analytics_shows_in_settings(qtbot, window, monkeypatch):
    from photoflux_desktop.ui.dialogs import settings_dialog

    consent = window.first_run.consent
    close_welcome(qtbot, window)
    qtbot.waitUntil(consent.isVisible, timeout=5000)
    click(qtbot, consent.allow_button)
    assert load_settings()[0].analytics_enabled
    seen = {}

    def look(dialog):
        seen["checked"] = dialog.analytics.isChecked()
        seen["devices"] = [dialog.device.itemData(i) for i in range(dialog.device.count())]
        seen["memory"] = [dialog.memory.itemData(i) for i in range(dialog.memory.count())]
        dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
        seen["note"] = dialog.device_note.text()
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(settings_dialog.SettingsDialog, "exec", look)
    window.actions_by_name["settings"].trigger()
    assert seen["checked"]
    # a CPU-only machine: no NVIDIA or Apple entries, no plans that need a GPU
    assert seen["devices"] == ["auto", "cpu"]
    assert "offload" not in seen["memory"] and "sequential" not in seen["memory"]
    assert "Works on every machine" in seen["note"]


def test_settings_list_an_nvidia_gpu_with_its_memory(qtbot):
    from photoflux_desktop.engine.machine import device_options
    from photoflux_desktop.engine.settings import Settings
    from photoflux_desktop.ui.dialogs.settings_dialog import SettingsDialog

    gpu = MachineInfo("cuda", "NVIDIA RTX 4070", total_gb=12.0)
    dialog = SettingsDialog(Settings(device="cuda"), devices=device_options(gpu))
    qtbot.addWidget(dialog)
    assert dialog.device.currentText() == "NVIDIA GPU: NVIDIA RTX 4070"
    assert "12 GB" in dialog.device_note.text()
    assert dialog.device.findData("mps") < 0
    assert dialog.memory.findData("offload") >= 0


def test_advanced_parameters_start_collapsed_and_the_choice_is_remembered(qtbot, window):
    from photoflux_desktop.ui.widgets.parameter_panel import ParameterPanel

    params = window.params
    assert not params.steps.isVisible() and not params.seed.isVisible()
    assert params.strength.isVisible()
    click(qtbot, params.advanced_toggle)
    for widget in (params.steps, params.guidance, params.seed, params.lora, params.memory):
        assert widget.isVisible()
    params.memory.setCurrentIndex(params.memory.findData("lowmem"))
    assert window.settings.memory == "lowmem"  # what the next render asks for
    reopened = ParameterPanel()
    qtbot.addWidget(reopened)
    reopened.show()
    assert reopened.steps.isVisible()


def _image(width: int, height: int) -> QImage:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("steelblue"))
    return image


def test_wheel_zoom_keeps_the_point_under_the_cursor(qtbot, window):
    view = window.compare
    view.set_before(_image(3000, 2000))
    cursor = QPointF(view.width() * 0.3, view.height() * 0.4)

    def image_point() -> tuple[float, float]:
        rect = view.image_rect(view._panes()[0])
        return (
            (cursor.x() - rect.left()) / rect.width(),
            (cursor.y() - rect.top()) / rect.height(),
        )

    before = image_point()
    for _ in range(2):
        wheel = QWheelEvent(
            cursor,
            view.mapToGlobal(cursor),
            QPoint(),
            QPoint(0, 120),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(view, wheel)
    assert view.zoom == pytest.approx(1.25**2)
    assert image_point() == pytest.approx(before, abs=1e-3)


def test_actual_pixels_action_shows_one_image_pixel_per_screen_pixel(qtbot, window):
    view = window.compare
    for width, height in ((3000, 2000), (120, 90)):  # bigger and smaller than the view
        view.set_before(_image(width, height))
        window.actions_by_name["actual_size"].trigger()
        rect = view.image_rect(view._panes()[0])
        assert rect.width() * view.devicePixelRatioF() == pytest.approx(width)
        assert view.zoom_percent() == 100
    window.actions_by_name["fit"].trigger()
    assert view.zoom == 1.0


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_the_active_compare_mode_is_marked(qtbot, window, theme):
    from photoflux_desktop.ui.theme import ACCENT, apply_theme

    apply_theme(QApplication.instance(), theme)
    window.actions_by_name["side"].trigger()
    buttons = {b.text(): b for b in window.mode_buttons.buttons()}
    assert buttons["Side by side"].isChecked() and not buttons["Split"].isChecked()

    def fill(button) -> QColor:
        image = button.grab().toImage()
        return image.pixelColor(4, image.height() // 2)  # inside the frame, left of the text

    checked, unchecked = fill(buttons["Side by side"]), fill(buttons["Split"])
    # filled with the accent (the style shades it a little), the others stay grey
    assert abs(checked.hslHue() - ACCENT.hslHue()) < 15 and checked.hslSaturation() > 120
    assert unchecked.hslSaturation() < 60


def test_the_models_dialog_shows_and_pauses_the_cards_download(qtbot, window, monkeypatch):
    from tests.fake_hub import FakeHub

    turbo = {"model_index.json": b"{}", WEIGHTS: os.urandom(600_000)}
    card = window.first_run.welcome
    qtbot.waitUntil(card.download_button.isEnabled, timeout=5000)
    with FakeHub({"stabilityai/sd-turbo": turbo, "madebyollin/taesd": {}}) as hub:
        monkeypatch.delenv("HF_HUB_OFFLINE")
        monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        hub.hold_after[WEIGHTS] = 200_000
        click(qtbot, card.download_button)
        window.actions_by_name["models"].trigger()
        manager = window._model_manager
        qtbot.waitUntil(lambda: manager.progress.value() > 0, timeout=10000)
        assert not manager.download_button.isEnabled()  # one download at a time
        assert "SD-Turbo" in manager.status.text() and " of " in manager.status.text()
        click(qtbot, manager.pause_button)
        hub.release.set()
        qtbot.waitUntil(lambda: card.download_button.text() == "Resume", timeout=10000)
        assert "press Download to continue" in manager.status.text()
        assert manager.download_button.isEnabled()
    manager.close()


def test_a_failed_download_is_reported_in_the_error_banner(qtbot, window):
    card = window.first_run.welcome
    qtbot.waitUntil(card.download_button.isEnabled, timeout=5000)
    click(qtbot, card.download_button)  # HF_HUB_OFFLINE=1 in tests: refused at once
    qtbot.waitUntil(lambda: card.download_button.text() == "Try again", timeout=10000)
    assert window.banner.isVisible()
    assert "Offline mode" in window.banner.error.message
    assert "`" not in window.banner.error.hint  # no terminal commands in the window
