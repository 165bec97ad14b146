"""Campaigns and consents as the studio sees them: the lead API's campaign filter, the
GDPR export's consent record, the dashboard's per-campaign funnel, lead view and
webhook form, and the consent texts devices fetch."""

from __future__ import annotations

import secrets

from tests.cloud.live import Api, LiveServer, bearer, event, lead
from tests.cloud.test_admin import csrf_of, signed_in
from tests.cloud.test_shares import png, share


def marketing(body: dict) -> dict:
    return body | {
        "marketing": True,
        "marketing_text_version": "m-4",
        "marketing_consented_at": body["consented_at"],
    }


def test_campaign_funnel_consents_and_export(server: LiveServer) -> None:
    api = Api(server)
    admin = api.admin()
    studio = api.http.post("/api/studios", json={"name": "Fair"}, headers=admin).json()["id"]
    token = api.http.post(
        f"/api/studios/{studio}/devices", json={"name": "kiosk"}, headers=admin
    ).json()["device_token"]
    auth = bearer(token)
    fair = "Harbour Fair 2026"
    batch = [
        event("kiosk_session_started", session="g1", campaign=fair),
        event("render_finished", session="g1", campaign=fair),
        event("kiosk_session_started", session="g2", campaign=fair),
        event("render_finished", session="g2", campaign=fair),
        event("kiosk_session_started", session="g3", campaign=fair),
        event("app_opened", session="desk"),
    ]
    assert api.http.post("/api/events", json={"events": batch}, headers=auth).status_code == 200
    keen = marketing(lead("keen@example.org", campaign=fair))
    shy = lead("shy@example.org", campaign=fair)
    other = lead("walkin@example.org")
    ids = {}
    for body in (keen, shy, other):
        answer = api.http.post("/api/leads", json=body, headers=auth)
        assert answer.status_code == 201, answer.text
        ids[body["email"]] = answer.json()["id"]
    shared = share(secrets.token_urlsafe(24), png(), campaign=fair)
    assert api.http.post("/api/shares", json=shared, headers=auth).status_code == 201

    listed = api.http.get(f"/api/leads?studio_id={studio}&campaign={fair}", headers=admin)
    assert sorted(r["email"] for r in listed.json()["items"]) == [
        "keen@example.org",
        "shy@example.org",
    ]
    exported = api.http.get(f"/api/leads/{ids['keen@example.org']}/export", headers=admin).json()
    [consent] = exported["consents"]
    assert consent["processing_text_version"] == "2026-01"
    assert consent["marketing"] is True and consent["marketing_text_version"] == "m-4"
    assert consent["campaign"] == fair and exported["lead"]["marketing"] is True

    with signed_in(server) as http:
        overview = http.get(f"/admin?studio={studio}").text
        row = overview.split(fair + "</a>")[1].split("</tr>")[0]
        cells = [c.split("</td>")[0].strip() for c in row.split("<td>")[1:]]
        # sessions 3 → renders 2 → consents 2 → deliveries 1 (the QR share); 1 of 2 opted in
        assert cells == ["3", "2", "2", "1", "50 %"]
        filtered = http.get(f"/admin/leads?studio={studio}&campaign={fair}").text
        assert "keen@example.org" in filtered and "walkin@example.org" not in filtered
        view = http.get(f"/admin/leads/{ids['keen@example.org']}").text
        assert "text v2026-01" in view and "text vm-4" in view and fair in view


def test_webhook_form_in_the_dashboard_shows_the_secret_once(server: LiveServer) -> None:
    studio = Api(server).studio("Webhook Form Studio")
    with signed_in(server) as http:
        page = http.get(f"/admin/webhook?studio={studio}")
        csrf = csrf_of(page.text)
        refused = http.post(
            "/admin/webhook",
            data={"url": "https://192.168.1.10/hook", "studio": studio, "csrf": csrf},
        )
        assert "private or reserved" in refused.text
        saved = http.post(
            "/admin/webhook",
            data={"url": "https://crm.example.com/hook", "studio": studio, "csrf": csrf},
        )
        secret = saved.text.split('<code class="token">')[1].split("</code>")[0]
        assert len(secret) >= 32
        again = http.get(f"/admin/webhook?studio={studio}").text
        assert "https://crm.example.com/hook" in again and secret not in again
        forged = http.post(
            "/admin/webhook",
            data={"url": "https://evil.example.com/", "studio": studio, "csrf": "0" * 64},
        )
        assert forged.status_code == 303  # no CSRF token, no change


def test_devices_fetch_the_studio_consent_texts(server: LiveServer) -> None:
    api = Api(server)
    admin = api.admin()
    studio = api.http.post("/api/studios", json={"name": "Texts"}, headers=admin).json()["id"]
    token = api.http.post(
        f"/api/studios/{studio}/devices", json={"name": "kiosk"}, headers=admin
    ).json()["device_token"]
    unset = api.http.get("/api/studio/consent-texts", headers=bearer(token)).json()
    assert unset["processing_text"] is None
    texts = {"processing_text": "We style your photo.", "processing_version": "s-2"}
    assert (
        api.http.put(
            f"/api/studios/{studio}/consent-texts",
            json=texts | {"marketing_text": "News?"},
            headers=admin,
        ).status_code
        == 422
    )  # a text without its version
    put = api.http.put(f"/api/studios/{studio}/consent-texts", json=texts, headers=admin)
    assert put.status_code == 200
    got = api.http.get("/api/studio/consent-texts", headers=bearer(token)).json()
    assert got["processing_version"] == "s-2" and got["marketing_text"] is None


def test_a_consent_version_always_names_the_same_wording(server: LiveServer) -> None:
    """A lead stores only the version it agreed to: reusing a version for changed words
    would make the record say the person agreed to a text they never saw."""
    api = Api(server)
    admin = api.admin()
    studio = api.studio("Versions")
    route = f"/api/studios/{studio}/consent-texts"
    first = {"processing_text": "We style your photo.", "processing_version": "v1"}
    assert api.http.put(route, json=first, headers=admin).status_code == 200
    assert api.http.put(route, json=first, headers=admin).status_code == 200  # same words
    reworded = first | {"processing_text": "We style and keep your photo."}
    refused = api.http.put(route, json=reworded, headers=admin)
    assert refused.status_code == 409 and "processing_version" in refused.json()["detail"]
    shown = api.http.get(route, headers=admin).json()
    assert shown["processing_text"] == "We style your photo."
    renamed = reworded | {"processing_version": "v2"}
    assert api.http.put(route, json=renamed, headers=admin).status_code == 200
    # the marketing text keeps its own versions: v1 there is a different text's id
    marketing = renamed | {"marketing_text": "News?", "marketing_version": "v1"}
    assert api.http.put(route, json=marketing, headers=admin).status_code == 200
    back = first | {"marketing_text": "News?", "marketing_version": "v1"}
    assert api.http.put(route, json=back, headers=admin).status_code == 200  # v1 again
