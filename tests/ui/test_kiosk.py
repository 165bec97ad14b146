"""Kiosk mode driven as a guest and an operator would: attract screen → camera countdown
(a video file is the camera) → style → instant render → reveal → e-mail form → QR → back
to the attract screen when the guest walks away, with nothing of them left behind."""

from __future__ import annotations

import gc
import json
import sqlite3
import weakref
from dataclasses import replace

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLabel, QLineEdit

from photoflux_desktop.engine.kiosk_pin import hash_pin
from photoflux_desktop.engine.library import Library
from photoflux_desktop.engine.local_renderer import LocalRenderer
from photoflux_desktop.engine.settings import Settings
from photoflux_desktop.sync.outbox import Outbox
from photoflux_desktop.ui.kiosk.config import KioskConfig
from photoflux_desktop.ui.kiosk.window import KioskWindow
from tests.kiosk_video import write_camera_video

PIN = "2468"
CAMPAIGN = "Summer fair 2026"
CLOUD = "https://studio.example.com"
GUEST_EMAIL = "guest.person@example.com"


@pytest.fixture
def outbox(tmp_path):
    box = Outbox(tmp_path / "outbox" / "outbox.sqlite3")
    yield box
    box.close()


@pytest.fixture
def kiosk(qtbot, tmp_path, outbox):
    config = KioskConfig(
        styles=("vintage-film", "pop-art", "pencil-sketch"),
        camera=str(write_camera_video(tmp_path / "camera.avi")),
        campaign=CAMPAIGN,
        model="instant",
        countdown_s=2,
        countdown_tick_ms=40,
        attract_interval_ms=40,
        reveal_ms=40,
        cloud_url=CLOUD,
    )
    settings = Settings(kiosk_pin_hash=hash_pin(PIN), kiosk_campaign=CAMPAIGN)
    window = KioskWindow(
        config, settings, LocalRenderer(), outbox=outbox, library=Library(tmp_path / "library")
    )
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    yield window
    window.capture.shutdown()
    window.controller.wait(30000)


def _rows(outbox: Outbox, kind: str) -> list[dict]:
    with sqlite3.connect(outbox.path) as db:
        rows = db.execute("SELECT body FROM items WHERE kind = ? ORDER BY seq", (kind,))
        return [json.loads(row[0]) for row in rows]


def _type_pin(qtbot, dialog, pin: str) -> None:
    for digit in pin:  # the touch keypad, as an operator at the kiosk uses it
        button = next(b for b in dialog.findChildren(type(dialog.ok_button)) if b.text() == digit)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)


def test_a_guest_goes_from_attract_screen_to_qr_and_is_forgotten_when_idle(qtbot, kiosk, outbox):
    # attract screen: sample results cycle
    assert kiosk.pages.currentWidget() is kiosk.attract
    first = kiosk.attract.index
    qtbot.waitUntil(lambda: kiosk.attract.index != first, timeout=5000)
    assert kiosk.attract.view.image is not None

    # touch → the camera page, live frames from the "camera"
    qtbot.mouseClick(kiosk.attract.start_button, Qt.MouseButton.LeftButton)
    assert kiosk.pages.currentWidget() is kiosk.capture
    qtbot.waitUntil(kiosk.capture.shoot_button.isEnabled, timeout=10000)
    qtbot.waitUntil(lambda: kiosk.capture.view.image is not None, timeout=10000)

    # the countdown, then the photo
    qtbot.mouseClick(kiosk.capture.shoot_button, Qt.MouseButton.LeftButton)
    assert kiosk.capture.view.overlay == "2"
    qtbot.waitUntil(lambda: kiosk.pages.currentWidget() is kiosk.styles, timeout=5000)
    assert kiosk.guest.photo.size == (96, 64)
    assert kiosk.capture.feed is None  # the camera is closed once the photo is taken
    assert kiosk.styles.photo_view.image is not None

    # a style tile → render with progress → the before/after reveal
    with qtbot.waitSignal(kiosk.revealed, timeout=30000):
        # vintage-film passes every check on the synthetic camera frame: no operator hold
        qtbot.mouseClick(kiosk.styles.tiles["vintage-film"], Qt.MouseButton.LeftButton)
        assert kiosk.pages.currentWidget() is kiosk.result_page
    compare = kiosk.result_page.compare
    assert compare.before is not None and compare.after is not None
    assert compare.split == pytest.approx(0.3)
    assert kiosk.result_page.home_button.isVisible()
    photo_ref = weakref.ref(kiosk.guest.photo)
    result_ref = weakref.ref(kiosk.guest.result)

    # e-mail: the consent form, typed and ticked like a guest does
    qtbot.mouseClick(kiosk.result_page.home_button, Qt.MouseButton.LeftButton)
    form = kiosk.deliver.form
    assert kiosk.pages.currentWidget() is kiosk.deliver
    qtbot.keyClicks(form.email, GUEST_EMAIL)
    assert not form.send_button.isEnabled()  # consent first
    qtbot.mouseClick(form.processing, Qt.MouseButton.LeftButton)
    assert form.send_button.isEnabled()
    qtbot.mouseClick(form.send_button, Qt.MouseButton.LeftButton)
    (lead,) = _rows(outbox, "lead")
    assert lead["email"] == GUEST_EMAIL and lead["campaign"] == CAMPAIGN
    assert lead["source"] == "kiosk" and lead["consent"] is True
    (delivery,) = _rows(outbox, "delivery")
    assert delivery["style"] == "vintage-film"
    assert "inbox" in kiosk.deliver.thanks.text()

    # QR: shown at once, pointing at the cloud's result page
    qtbot.mouseClick(kiosk.deliver.qr_button, Qt.MouseButton.LeftButton)
    qr = kiosk.deliver.qr
    assert qr.image is not None and qr.url.startswith(f"{CLOUD}/r/")
    (share,) = _rows(outbox, "share")
    assert share["token"] == qr.url.rsplit("/", 1)[1] and share["campaign"] == CAMPAIGN

    # the guest walks away: the idle timeout takes the kiosk back to the attract screen
    kiosk.set_idle_timeout(100)
    with qtbot.waitSignal(kiosk.sessionEnded, timeout=10000) as ended:
        qtbot.mouseMove(kiosk.deliver, QPoint(5, 5))  # the last touch restarts the timer
    assert ended.args == ["idle"]
    assert kiosk.pages.currentWidget() is kiosk.attract

    # nothing of the guest is left on screen or in memory
    assert kiosk.guest is None
    assert compare.before is None and compare.after is None
    assert kiosk.styles.photo_view.image is None and kiosk.capture.view.image is None
    assert qr.image is None and qr.url is None and not qr.address.text()
    texts = [w.text() for w in kiosk.findChildren(QLineEdit) + kiosk.findChildren(QLabel)]
    assert not any(GUEST_EMAIL in text or "guest.person" in text for text in texts)
    gc.collect()
    assert photo_ref() is None and result_ref() is None

    events = _rows(outbox, "event")
    names = [e["name"] for e in events]
    assert names == [
        "kiosk_session_started",
        "photo_loaded",
        "style_selected",
        "render_started",
        "render_finished",
        "lead_submitted",
        "email_requested",
        "qr_shown",
        "kiosk_session_ended",
    ]
    assert all(e["campaign"] == CAMPAIGN for e in events)
    assert len({e["session"] for e in events}) == 1
    assert events[-1]["properties"]["reason"] == "idle"
    assert not any(GUEST_EMAIL in json.dumps(e) for e in events)


def test_the_operator_pin_guards_leaving_kiosk_mode(qtbot, kiosk):
    kiosk.close()  # Alt+F4, the window manager's close: refused, the PIN pad opens
    assert kiosk.isVisible()
    dialog = kiosk.pin_dialog
    assert dialog is not None and dialog.isVisible()
    _type_pin(qtbot, dialog, "1357")
    assert kiosk.isVisible() and dialog.isVisible()
    assert dialog.message.text() == "Wrong PIN."
    assert dialog.field.text() == ""  # the typed digits do not stay on screen
    with qtbot.waitSignal(kiosk.exited, timeout=5000):
        _type_pin(qtbot, dialog, PIN)
    assert not kiosk.isVisible()


def test_repeated_wrong_pins_lock_the_pad(qtbot, kiosk):
    qtbot.keyClick(kiosk, Qt.Key.Key_Escape)
    dialog = kiosk.pin_dialog
    for _ in range(3):
        _type_pin(qtbot, dialog, "0000")
    assert "Try again in 30 s" in dialog.message.text()
    assert not dialog.ok_button.isEnabled() and not dialog.field.isEnabled()
    assert not kiosk.guard.check(PIN)  # even the right PIN waits
    assert kiosk.isVisible()


def test_the_menu_action_asks_for_a_pin_first_and_the_window_returns_after(
    qtbot, window, monkeypatch
):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from photoflux_desktop.engine.settings import load_settings
    from photoflux_desktop.ui.kiosk.setup_dialog import KioskSetupDialog

    monkeypatch.setattr(KioskWindow, "showFullScreen", KioskWindow.show)  # offscreen: same
    assert window.settings.kiosk_pin_hash is None

    def fill_setup() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, KioskSetupDialog)
        qtbot.keyClicks(dialog.pin, PIN)
        qtbot.keyClicks(dialog.pin_again, PIN)
        qtbot.keyClicks(dialog.campaign, CAMPAIGN)
        dialog.accept()

    QTimer.singleShot(0, fill_setup)
    window.actions_by_name["kiosk"].trigger()
    kiosk = window.kiosk
    assert kiosk.isVisible() and not window.isVisible()
    saved = load_settings()[0]
    assert saved.kiosk_pin_hash and PIN not in saved.kiosk_pin_hash
    assert kiosk.config.campaign == CAMPAIGN
    kiosk.request_exit()
    with qtbot.waitSignal(kiosk.exited, timeout=5000):
        _type_pin(qtbot, kiosk.pin_dialog, PIN)
    assert window.isVisible() and not kiosk.isVisible()


def test_without_a_camera_a_guest_can_use_a_photo_file(qtbot, kiosk, tmp_path, astronaut_path):
    kiosk.config = replace(kiosk.config, camera=str(tmp_path / "none.avi"))
    qtbot.mouseClick(kiosk.attract.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "does not exist" in kiosk.capture.message.text(), timeout=10000)
    assert "photo file" in kiosk.capture.message.text()
    assert not kiosk.capture.shoot_button.isEnabled()
    assert kiosk.capture.use_file(str(astronaut_path))
    assert kiosk.pages.currentWidget() is kiosk.styles
    assert kiosk.guest.photo is not None


def test_the_operator_menu_needs_the_pin_and_times_out_like_a_guest(qtbot, kiosk):
    qtbot.mouseClick(kiosk.attract.operator_button, Qt.MouseButton.LeftButton)
    _type_pin(qtbot, kiosk.pin_dialog, "9999")
    assert kiosk.operator_box is None  # a wrong PIN opens nothing
    _type_pin(qtbot, kiosk.pin_dialog, PIN)
    assert kiosk.operator_box is not None and kiosk.operator_box.isVisible()
    kiosk.set_idle_timeout(100)
    qtbot.mouseMove(kiosk.attract, QPoint(5, 5))
    qtbot.waitUntil(lambda: kiosk.operator_box is None, timeout=10000)
    assert kiosk.pages.currentWidget() is kiosk.attract and kiosk.isVisible()
