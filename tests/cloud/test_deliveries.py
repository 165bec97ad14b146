"""E-mail delivery of results through a real SMTP server on loopback."""

from __future__ import annotations

import base64
import io
import time
import uuid

import pytest
from PIL import Image

from tests.cloud.live import Api, LiveServer, bearer, free_port, lead
from tests.cloud.smtp_server import smtp_server


def png_b64(size: int = 32) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (200, 80, 40)).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def setup(live: LiveServer, email: str = "happy.customer@example.org"):
    api = Api(live)
    token = api.device(api.studio("Seaside Studio"))
    lead_id = api.http.post("/api/leads", json=lead(email), headers=bearer(token)).json()["id"]
    return api, token, lead_id


def deliver(api: Api, token: str, lead_id: str, **fields):
    body = {
        "id": str(uuid.uuid4()),
        "lead_id": lead_id,
        "image": png_b64(),
        "filename": "portrait.png",
        "style": "watercolor",
    } | fields
    return body, api.http.post("/api/deliveries", json=body, headers=bearer(token))


def wait_for(api: Api, token: str, delivery_id: str, status: str) -> dict:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        current = api.http.get(f"/api/deliveries/{delivery_id}", headers=bearer(token)).json()
        if current["status"] == status:
            return current
        time.sleep(0.05)
    raise AssertionError(f"delivery stayed {current['status']}, wanted {status}: {current}")


def mail_settings(port: int, **extra):
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "mail_from": "Seaside <photos@seaside.example.com>",
    } | extra


def test_a_result_is_mailed_to_the_lead(make_server):
    with smtp_server() as (inbox, port):
        live = make_server(**mail_settings(port))
        api, token, lead_id = setup(live)
        body, queued = deliver(api, token, lead_id)
        assert queued.status_code == 202
        assert queued.json()["status"] in ("queued", "sending", "sent")
        sent = wait_for(api, token, body["id"], "sent")
        assert sent["attempts"] == 1
        again = api.http.post("/api/deliveries", json=body, headers=bearer(token))
        assert again.status_code == 200
        assert again.json()["status"] == "sent"
        time.sleep(0.2)
    assert len(inbox.messages) == 1  # the retry of the request did not mail twice
    message = inbox.messages[0]
    assert message["To"] == "happy.customer@example.org"
    assert "Seaside Studio" in message["Subject"]
    attachment = next(p for p in message.walk() if p.get_filename() == "portrait.png")
    assert attachment.get_content_type() == "image/png"
    assert attachment.get_payload(decode=True) == base64.b64decode(body["image"])
    assert live.db.uploads.count_documents({}) == 0  # the image is not kept after sending


def test_only_leads_of_the_same_studio_can_be_mailed(make_server):
    with smtp_server() as (inbox, port):
        live = make_server(**mail_settings(port))
        api, token, lead_id = setup(live)
        other = api.device(api.studio("Elsewhere"))
        assert deliver(api, other, lead_id)[1].status_code == 404
        assert deliver(api, token, "0" * 32)[1].status_code == 404
        typed = deliver(api, token, lead_id, to="spam@example.net")[1]
        assert typed.status_code == 422  # no free-form recipient
    assert inbox.messages == []


@pytest.mark.parametrize(
    ("image", "status"),
    [
        ("not base64!", 422),
        (base64.b64encode(b"GIF89a not really").decode(), 422),
        (base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64).decode(), 422),
    ],
)
def test_bad_images_are_refused(make_server, image: str, status: int):
    live = make_server(**mail_settings(free_port()))
    api, token, lead_id = setup(live)
    response = deliver(api, token, lead_id, image=image)[1]
    assert response.status_code == status
    assert live.db.deliveries.count_documents({}) == 0


def test_images_over_the_limit_are_refused(make_server):
    live = make_server(**mail_settings(free_port(), delivery_max_bytes=2048))
    api, token, lead_id = setup(live)
    assert deliver(api, token, lead_id, image=png_b64(8))[1].status_code == 202
    big = base64.b64encode(b"\x89PNG" + b"\x00" * 4096).decode()
    assert deliver(api, token, lead_id, image=big)[1].status_code == 413
    huge = base64.b64encode(b"\x00" * 100_000).decode()  # over the body limit itself
    assert deliver(api, token, lead_id, image=huge)[1].status_code == 413


def test_an_unreachable_server_is_retried_then_reported(make_server):
    live = make_server(
        **mail_settings(free_port(), delivery_retry_seconds=0.05, delivery_attempts=3)
    )
    api, token, lead_id = setup(live)
    body, queued = deliver(api, token, lead_id)
    assert queued.status_code == 202
    failed = wait_for(api, token, body["id"], "failed")
    assert failed["attempts"] == 3
    assert failed["last_error"]
    assert live.db.uploads.count_documents({}) == 0


def test_a_refused_recipient_fails_without_retrying(make_server):
    with smtp_server(refuse={"nobody.home@example.org"}) as (inbox, port):
        live = make_server(**mail_settings(port, delivery_retry_seconds=0.05))
        api, token, lead_id = setup(live, "nobody.home@example.org")
        body, _ = deliver(api, token, lead_id)
        failed = wait_for(api, token, body["id"], "failed")
    assert failed["attempts"] == 1
    assert "refused" in failed["last_error"]
    assert inbox.messages == []


def test_without_smtp_deliveries_wait_in_the_queue(make_server):
    live = make_server()
    api, token, lead_id = setup(live)
    body, response = deliver(api, token, lead_id)
    assert response.status_code == 202
    time.sleep(0.3)
    waiting = api.http.get(f"/api/deliveries/{body['id']}", headers=bearer(token)).json()
    assert waiting["status"] == "queued"
    assert waiting["attempts"] == 0
    assert "PHOTOFLUX_SMTP_HOST" in waiting["last_error"]
    assert live.db.uploads.count_documents({}) == 1  # the image waits with it


def test_gdpr_export_lists_deliveries_and_erase_removes_them(make_server):
    with smtp_server() as (_inbox, port):
        live = make_server(**mail_settings(port))
        api, token, lead_id = setup(live)
        body, _ = deliver(api, token, lead_id)
        wait_for(api, token, body["id"], "sent")
        exported = api.http.get(f"/api/leads/{lead_id}/export", headers=api.admin()).json()
        assert [d["id"] for d in exported["deliveries"]] == [body["id"]]
        assert api.http.delete(f"/api/leads/{lead_id}", headers=api.admin()).status_code == 204
    assert live.db.deliveries.count_documents({"lead_id": lead_id}) == 0


def test_the_dashboard_counts_deliveries(make_server):
    from tests.cloud.test_admin import signed_in

    with smtp_server(refuse={"bounce@example.org"}) as (_inbox, port):
        live = make_server(**mail_settings(port, delivery_retry_seconds=0.05))
        api, token, lead_id = setup(live)
        bounced = api.http.post(
            "/api/leads", json=lead("bounce@example.org"), headers=bearer(token)
        ).json()["id"]
        ok, _ = deliver(api, token, lead_id)
        bad, _ = deliver(api, token, bounced)
        wait_for(api, token, ok["id"], "sent")
        wait_for(api, token, bad["id"], "failed")
        with signed_in(live) as http:
            html = http.get("/admin").text
    assert "<b>1</b><span>photos e-mailed" in html
    assert "1 failed" in html
