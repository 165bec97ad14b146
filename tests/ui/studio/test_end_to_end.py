"""The window against the real cloud API over loopback and a real SMTP server: what the
UI queues while the studio is unreachable arrives once it is back; a revoked token is
shown as such, stops sending and keeps the outbox."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageStat

from photoflux_desktop.sync import drain
from tests.cloud.live import Api, free_port
from tests.cloud.smtp_server import smtp_server
from tests.cloud.test_deliveries import mail_settings
from tests.ui.studio.proxy import Proxy
from tests.ui.studio.test_window_studio import click, connect_through_dialog, outbox_items
from tests.ui.test_main_window import drop_file, render_and_wait


@pytest.fixture
def quick_sync(window, monkeypatch):
    # the app's background loop, minus the 30 s pauses it takes between passes in real use
    window.studio.sync.interval_s = 0.2
    monkeypatch.setattr(drain, "_retry_delay", lambda attempts: 0.2)
    return window


def mean_difference(a: bytes, b: bytes) -> float:
    with Image.open(io.BytesIO(a)) as first, Image.open(io.BytesIO(b)) as second:
        assert first.size == second.size
        diff = ImageChops.difference(first.convert("L"), second.convert("L"))
    return ImageStat.Stat(diff).mean[0]


def indicator_state(window) -> str:
    return window.studio.indicator.state["state"]


def test_an_email_requested_offline_arrives_with_its_image_once_the_cloud_is_back(
    qtbot, quick_sync, astronaut_path, memory_keyring, make_server
):
    window = quick_sync
    with smtp_server() as (inbox, smtp_port):
        live = make_server(**mail_settings(smtp_port))
        api = Api(live)
        token = api.device(api.studio("Harbour Studio"))
        proxy = Proxy(int(live.url.rsplit(":", 1)[1]), free_port())  # down for now
        try:
            connect_through_dialog(qtbot, window, proxy.url, token)
            qtbot.waitUntil(lambda: indicator_state(window) == "offline", timeout=10000)

            drop_file(window.compare, astronaut_path)
            window.gallery.select("watercolor")  # passes every check: no hold
            render_and_wait(qtbot, window)
            window.actions_by_name["send_email"].trigger()
            form = window.studio.last_dialog.form
            qtbot.keyClicks(form.email, "guest.offline@example.org")
            click(qtbot, form.processing)
            click(qtbot, form.send_button)
            [delivery] = outbox_items(window, "delivery")
            queued_image = window.studio.sync.outbox.image_of(delivery.id)
            window.actions_by_name["show_qr"].trigger()
            qr_url = window.studio.last_dialog.view.url
            assert qr_url.startswith(f"{proxy.url}/r/")
            page = qr_url.replace(proxy.url, live.url)  # as the guest's phone would see it
            qtbot.waitUntil(lambda: not window.studio.share_job.running, timeout=30000)
            qtbot.waitUntil(lambda: "pending" in window.studio.indicator.text(), timeout=10000)
            assert inbox.messages == []
            assert live.client().get(page).status_code == 404  # not registered yet

            proxy.up()  # the venue's internet is back; the app's own sync loop does the rest
            qtbot.waitUntil(lambda: len(inbox.messages) == 1, timeout=30000)
            qtbot.waitUntil(
                lambda: (
                    indicator_state(window) == "online"
                    and window.studio.indicator.state["pending"] == 0
                ),
                timeout=10000,
            )
        finally:
            proxy.down()
    photo = live.client().get(f"{page}/image")
    assert photo.status_code == 200 and photo.headers["content-type"].startswith("image/")
    assert "download" in live.client().get(page).text.lower()
    message = inbox.messages[0]
    assert message["To"] == "guest.offline@example.org"
    [attachment] = [part for part in message.walk() if part.get_filename()]
    assert attachment.get_filename() == "astronaut-styled.jpg"
    # the cloud re-encodes (stripping metadata) before mailing: the same picture, not bytes
    assert mean_difference(attachment.get_payload(decode=True), queued_image) < 3
    assert "last sync just now" in window.studio.indicator.text()
    # the address left the device once the cloud had it
    assert window.studio.sync.outbox.due("lead", 10) == []


def test_a_revoked_token_is_shown_stops_sending_and_keeps_the_outbox(
    qtbot, quick_sync, memory_keyring, make_server
):
    window = quick_sync
    server = make_server()
    api = Api(server)
    admin = api.admin()  # one sign-in (argon2 is slow on purpose)
    studio = api.http.post("/api/studios", json={"name": "Desk"}, headers=admin).json()["id"]
    created = api.http.post(
        f"/api/studios/{studio}/devices", json={"name": "desk"}, headers=admin
    ).json()
    connect_through_dialog(qtbot, window, server.url, created["device_token"])
    qtbot.waitUntil(lambda: indicator_state(window) == "online", timeout=10000)

    gone = api.http.delete(f"/api/studios/{studio}/devices/{created['id']}", headers=admin)
    assert gone.status_code == 204
    window.gallery.select("pencil-sketch")  # an event to send
    window.studio.sync.wake()
    qtbot.waitUntil(lambda: indicator_state(window) == "revoked", timeout=10000)
    assert "revoked" in window.studio.indicator.text()
    assert "refused this device's token" in window.studio.indicator.toolTip()
    worker = window.studio.sync.worker
    qtbot.waitUntil(lambda: not worker.running, timeout=5000)
    names = [item.body["name"] for item in outbox_items(window, "event")]
    assert "style_selected" in names  # kept, waiting for a new token


def test_a_token_the_studio_refuses_is_not_stored(qtbot, window, memory_keyring, make_server):
    live = make_server()
    outcome = connect_through_dialog(qtbot, window, live.url, "not-a-real-device-token")
    assert "refused this device token" in outcome["message"]
    assert memory_keyring.store == {}
    assert not window.studio.sync.snapshot()["linked"]
