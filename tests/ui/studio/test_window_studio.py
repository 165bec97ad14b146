"""Studio mode in the real window: e-mail delivery through the consent dialog, printing
to a PDF, the connect dialog with a fake keyring, usage events and the opt-out."""

from __future__ import annotations

import json
import math

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt

from photoflux_desktop.engine.settings import load_settings
from photoflux_desktop.sync.link import KEYRING_SERVICE, KEYRING_USER
from photoflux_desktop.ui.studio.connect_dialog import NO_KEYRING
from tests.ui.test_main_window import drop_file, render_and_wait


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=widget.rect().center())


@pytest.fixture
def rendered(qtbot, window, astronaut_path):
    drop_file(window.compare, astronaut_path)
    window.gallery.select("watercolor")  # passes every check: no hold
    render_and_wait(qtbot, window)
    return window


def outbox_items(window, kind: str):
    # every pending item, also those the background sync has scheduled for later
    return window.studio.sync.outbox.due(kind, 1000, math.inf)


def event_names(window) -> list[str]:
    return [item.body["name"] for item in outbox_items(window, "event")]


def test_send_to_my_email_queues_the_lead_and_the_image_on_disk(qtbot, rendered):
    window = rendered
    window.actions_by_name["send_email"].trigger()
    dialog = window.studio.last_dialog
    assert dialog.isVisible()
    form = dialog.form
    qtbot.keyClicks(form.email, "guest@example")
    assert form.email_message.isVisible() and not form.send_button.isEnabled()
    qtbot.keyClicks(form.email, ".org")
    click(qtbot, form.processing)
    click(qtbot, form.send_button)

    assert dialog.pages.currentWidget() is dialog.done_label
    assert "guest@example.org" in dialog.done_label.text()
    assert form.email.text() == ""  # the address left the widget once it was saved
    [lead] = outbox_items(window, "lead")
    assert lead.body["email"] == "guest@example.org" and lead.body["consent"] is True
    [delivery] = outbox_items(window, "delivery")
    assert delivery.body["lead_client_id"] == lead.id
    assert delivery.body["style"] == "watercolor"
    image_file = window.studio.sync.outbox.files / f"{delivery.id}.img"
    assert image_file.read_bytes()[:3] == b"\xff\xd8\xff"  # the JPEG is next to the outbox
    names = event_names(window)
    assert names[:1] == ["app_opened"]
    for expected in ("photo_loaded", "style_selected", "render_started", "render_finished"):
        assert expected in names
    assert names[-2:] == ["lead_submitted", "email_requested"]
    raw = json.dumps([item.body for item in outbox_items(window, "event")])
    assert "guest@example.org" not in raw and "astronaut" not in raw  # no personal data
    finished = next(i for i in outbox_items(window, "event") if i.body["name"] == "render_finished")
    assert finished.body["properties"]["style"] == "watercolor"
    assert finished.body["properties"]["total_s"] >= 0


def test_the_opt_out_silences_events_but_never_leads(qtbot, rendered):
    window = rendered
    window.settings.analytics_opt_out = True
    before = len(outbox_items(window, "event"))
    window.actions_by_name["send_email"].trigger()
    form = window.studio.last_dialog.form
    qtbot.keyClicks(form.email, "guest@example.org")
    click(qtbot, form.processing)
    click(qtbot, form.marketing)
    click(qtbot, form.send_button)
    [lead] = outbox_items(window, "lead")
    assert lead.body["marketing"] is True
    assert len(outbox_items(window, "delivery")) == 1
    assert len(outbox_items(window, "event")) == before


def test_print_draws_the_result_into_a_pdf(qtbot, rendered, tmp_path):
    from PySide6.QtPrintSupport import QPrinter

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    target = tmp_path / "result.pdf"
    printer.setOutputFileName(str(target))
    assert rendered.studio.print_result(printer)
    data = target.read_bytes()
    assert data.startswith(b"%PDF") and b"/Subtype /Image" in data
    assert "print" in event_names(rendered)


def test_nothing_to_deliver_before_a_render(qtbot, window):
    window.actions_by_name["send_email"].trigger()
    assert window.banner.isVisible() and "no result" in window.banner.text.text()
    assert window.studio.last_dialog is None


def connect_through_dialog(qtbot, window, url: str, token: str):
    from PySide6.QtCore import QTimer

    outcome = {}

    def fill():
        dialog = window.studio.last_dialog
        outcome["note"] = dialog.keyring_note.text()
        dialog.url.setText("")
        qtbot.keyClicks(dialog.url, url)
        qtbot.keyClicks(dialog.token, token)
        click(qtbot, dialog.connect_button)
        if dialog.job is not None:  # the token is checked with the studio in the background
            qtbot.waitUntil(lambda: not dialog.job.running, timeout=20000)
            qtbot.waitUntil(lambda: dialog.connect_button.isEnabled() or not dialog.isVisible())
        outcome["message"] = dialog.message.text() if dialog.isVisible() else None
        if dialog.isVisible():
            dialog.reject()
        outcome["dialog"] = dialog

    QTimer.singleShot(0, fill)
    window.actions_by_name["connect"].trigger()  # exec() returns when fill() closed it
    return outcome


def test_connect_stores_the_token_in_the_keyring_and_disconnect_removes_it(
    qtbot, window, memory_keyring
):
    outcome = connect_through_dialog(qtbot, window, "http://127.0.0.1:9", "device-secret-1")
    assert "OS keyring" in outcome["note"] and outcome["dialog"].outcome == "keyring"
    assert "could not be checked" in outcome["dialog"].note  # nothing listens there
    assert memory_keyring.store[(KEYRING_SERVICE, KEYRING_USER)] == "device-secret-1"
    window.close()  # the window saves its settings: the URL, never the token
    saved = load_settings()[0]
    assert saved.cloud_url == "http://127.0.0.1:9"
    from photoflux_desktop.engine.settings import settings_path

    assert "device-secret-1" not in settings_path().read_text()
    state = window.studio.sync.snapshot()
    assert state["linked"] and state["url"] == "http://127.0.0.1:9"


def test_connect_refuses_a_clear_text_remote_address(qtbot, window, memory_keyring):
    outcome = connect_through_dialog(qtbot, window, "http://studio.example", "tok")
    assert "https" in outcome["message"]
    assert memory_keyring.store == {}


def test_without_a_keyring_the_token_is_kept_for_this_session_only(qtbot, window):
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        outcome = connect_through_dialog(qtbot, window, "http://127.0.0.1:9", "session-secret")
    finally:
        keyring.set_keyring(previous)
    assert outcome["note"] == NO_KEYRING
    assert outcome["dialog"].outcome == "session"
    state = window.studio.sync.snapshot()
    assert state["linked"] and state["session_only"]
    assert "session only" in window.studio.indicator.toolTip()
    window.close()
    assert load_settings()[0].cloud_url is None


def test_the_qr_code_shows_at_once_and_the_share_waits_in_the_outbox(
    qtbot, rendered, memory_keyring
):
    window = rendered
    connect_through_dialog(qtbot, window, "http://127.0.0.1:9", "device-secret")  # offline
    window.actions_by_name["show_qr"].trigger()
    dialog = window.studio.last_dialog
    assert dialog.isVisible() and dialog.view.image is not None
    url = dialog.view.url
    prefix = "http://127.0.0.1:9/r/"
    assert url.startswith(prefix) and len(url) - len(prefix) >= 22  # ≥128 bits, base64
    # the picture is encoded and queued behind the code already on screen
    qtbot.waitUntil(lambda: not window.studio.share_job.running, timeout=30000)
    [share] = outbox_items(window, "share")
    assert share.body["token"] == url[len(prefix) :]
    stored = window.studio.sync.outbox.image_of(share.id)
    assert stored.startswith(b"\x89PNG")
    assert "qr_shown" in event_names(window)


def test_a_qr_code_needs_a_studio(qtbot, rendered):
    rendered.actions_by_name["show_qr"].trigger()
    assert rendered.banner.isVisible() and "studio" in rendered.banner.text.text()
    assert outbox_items(rendered, "share") == []


def test_a_keyring_that_refuses_the_token_leaves_it_for_this_session(qtbot, window):
    from keyring.errors import KeyringError

    from tests.sync.conftest import MemoryKeyring

    class LockedKeyring(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            raise KeyringError("the keyring is locked")

    previous = keyring.get_keyring()
    keyring.set_keyring(LockedKeyring())
    try:
        outcome = connect_through_dialog(qtbot, window, "http://127.0.0.1:9", "locked-secret")
    finally:
        keyring.set_keyring(previous)
    assert outcome["dialog"].outcome == "session"
    assert window.studio.sync.snapshot()["session_only"]


def test_connect_errors_show_the_window_hint_not_a_terminal_one(qtbot, window, monkeypatch):
    from photoflux_desktop.engine.errors import bad_input

    def refuse(url):
        raise bad_input(
            "The studio address is not usable.",
            "Set PHOTOFLUX_CLOUD_URL instead.",
            gui_hint="Copy the address from the studio dashboard.",
        )

    monkeypatch.setattr("photoflux_desktop.ui.studio.connect_dialog.check_url", refuse)
    outcome = connect_through_dialog(qtbot, window, "https://studio.example", "tok")
    assert "dashboard" in outcome["message"] and "PHOTOFLUX_" not in outcome["message"]
    window.close()
