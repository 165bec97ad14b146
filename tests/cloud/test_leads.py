"""Leads: consent, idempotency, encryption at rest, listing and GDPR export/erase."""

from __future__ import annotations

import hashlib
import json
import uuid

from tests.cloud.live import Api, LiveServer, bearer, cloud_settings, key, lead


def post(api: Api, token: str, body: dict):
    return api.http.post("/api/leads", json=body, headers=bearer(token))


def test_lead_is_created_once_and_a_retry_gets_the_same_answer(api: Api, device_token: str):
    body = lead("retry.me@example.org")
    first = post(api, device_token, body)
    again = post(api, device_token, body)
    assert first.status_code == 201
    assert first.json()["status"] == "created"
    assert again.status_code == 200
    assert again.json() == {"id": first.json()["id"], "status": "replayed"}


def test_same_address_under_a_new_id_answers_like_a_new_lead(api: Api, device_token: str, server):
    first = post(api, device_token, lead("Twice@Example.org", name="Ann"))
    second = post(api, device_token, lead("  twice@example.org ", name="Ann B."))
    assert second.status_code == 201  # no hint that the address was already known
    assert second.json() == {"id": first.json()["id"], "status": "created"}
    assert server.db.leads.count_documents({"_id": first.json()["id"]}) == 1


def test_an_id_reused_for_another_address_is_a_conflict(api: Api, device_token: str):
    body = lead("first.owner@example.org")
    assert post(api, device_token, body).status_code == 201
    clash = post(api, device_token, body | {"email": "someone.else@example.org"})
    assert clash.status_code == 409
    assert "new id" in clash.json()["detail"]


def test_consent_is_required(api: Api, device_token: str):
    for bad in ({"consent": False}, {"consent": "yes"}):
        response = post(api, device_token, lead("no.consent@example.org", **bad))
        assert response.status_code == 422
    missing = {k: v for k, v in lead().items() if k != "consent"}
    assert post(api, device_token, missing).status_code == 422
    missing_version = {k: v for k, v in lead().items() if k != "consent_text_version"}
    assert post(api, device_token, missing_version).status_code == 422


def test_consent_is_the_boolean_true_not_a_truthy_number(api: Api, device_token: str):
    for truthy in (1, 1.0, "true"):
        response = post(api, device_token, lead("truthy@example.org", consent=truthy))
        assert response.status_code == 422, truthy
    listed = api.http.get(
        "/api/leads", params={"email": "truthy@example.org"}, headers=api.admin()
    ).json()
    assert listed["items"] == []


def test_bad_addresses_and_fields_are_refused_without_echoing_them(api: Api, device_token: str):
    for email in ("not-an-address", "a@b", "x" * 300 + "@example.org", ""):
        response = post(api, device_token, lead(email))
        assert response.status_code == 422, email
        assert response.json()["kind"] == "validation"
        if email:
            assert email not in response.text
    assert post(api, device_token, lead(extra="field")).status_code == 422
    assert post(api, device_token, lead(id="not-a-uuid")).status_code == 422
    naive = lead(consented_at="2026-01-01T00:00:00")
    assert post(api, device_token, naive).status_code == 422
    number = lead(consented_at=1795254656)
    assert post(api, device_token, number).status_code == 422


def test_consent_from_a_clock_in_the_future_is_kept_at_the_time_received(
    api: Api, device_token: str, server: LiveServer
):
    response = post(
        api, device_token, lead("clock@example.org", consented_at="2999-01-01T00:00:00Z")
    )
    assert response.status_code == 201
    stored = server.db.leads.find_one({"_id": response.json()["id"]})
    assert stored["consented_at"].year < 2999
    assert stored["client_consented_at"].startswith("2999-01-01")


def test_personal_data_is_encrypted_at_rest(api: Api, device_token: str, server: LiveServer):
    email, name = "private.person@example.org", "Private Person"
    lead_id = post(api, device_token, lead(email, name=name)).json()["id"]
    stored = server.db.leads.find_one({"_id": lead_id})
    raw = json.dumps(stored, default=str).lower()
    assert email not in raw
    assert "private" not in raw
    assert stored["email"]["kid"] == "k1"
    # the lookup hash is keyed: a plain hash of the address does not find it
    assert stored["email_hash"] != hashlib.sha256(email.encode()).hexdigest()
    listed = api.http.get(f"/api/leads?email={email}", headers=api.admin()).json()["items"]
    assert [(x["email"], x["name"]) for x in listed] == [(email, name)]


def test_old_keys_still_decrypt_after_rotation(make_server):
    old = make_server()
    api = Api(old)
    token = api.device(api.studio())
    lead_id = post(api, token, lead("rotate.me@example.org")).json()["id"]
    documents = {name: list(old.db[name].find()) for name in ("studios", "leads")}

    rotated = make_server(field_keys=[f"k2:{key('field-key-two')}", f"k1:{key('field-key-one')}"])
    for name, docs in documents.items():
        rotated.db[name].insert_many(docs)
    new_api = Api(rotated)
    exported = new_api.http.get(f"/api/leads/{lead_id}/export", headers=new_api.admin())
    assert exported.status_code == 200
    assert exported.json()["lead"]["email"] == "rotate.me@example.org"
    fresh = post(new_api, new_api.device(documents["studios"][0]["_id"]), lead("new@example.org"))
    assert rotated.db.leads.find_one({"_id": fresh.json()["id"]})["email"]["kid"] == "k2"


def test_listing_pages_newest_first(api: Api, make_server):
    live = make_server()
    api = Api(live)
    token = api.device(api.studio())
    ids = [post(api, token, lead(f"page{i}@example.org")).json()["id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        url = "/api/leads?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.http.get(url, headers=api.admin()).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)
    assert len(seen) == len(set(seen))
    bad = api.http.get("/api/leads?cursor=abc", headers=api.admin())
    assert bad.status_code == 422


def test_gdpr_export_then_erase(api: Api, studio: str, device_token: str, server: LiveServer):
    body = lead("forget.me@example.org", name="Forget Me")
    lead_id = post(api, device_token, body).json()["id"]
    studio_admin = api.studio_admin(studio, f"gdpr-{uuid.uuid4().hex[:6]}@sunny.example.com")

    exported = api.http.get(f"/api/leads/{lead_id}/export", headers=studio_admin)
    assert exported.status_code == 200
    data = exported.json()
    assert data["lead"]["email"] == "forget.me@example.org"
    assert data["lead"]["name"] == "Forget Me"
    assert data["client_ids"] == [body["id"]]

    erased = api.http.delete(f"/api/leads/{lead_id}", headers=studio_admin)
    assert erased.status_code == 204
    assert api.http.get(f"/api/leads/{lead_id}/export", headers=studio_admin).status_code == 404
    assert server.db.leads.find_one({"_id": lead_id}) is None
    assert server.db.lead_receipts.count_documents({"lead_id": lead_id}) == 0
    audit = server.db.audit.find_one({"subject": lead_id})
    assert audit["action"] == "lead.erased"
    assert "forget" not in json.dumps(audit, default=str).lower()
    assert api.http.delete(f"/api/leads/{lead_id}", headers=studio_admin).status_code == 404


def test_a_studio_admin_cannot_reach_another_studios_lead(api: Api, device_token: str):
    lead_id = post(api, device_token, lead("mine@example.org")).json()["id"]
    other = api.studio("Rival Studio")
    rival = api.studio_admin(other, f"rival-{uuid.uuid4().hex[:6]}@rival.example.com")
    assert api.http.get(f"/api/leads/{lead_id}/export", headers=rival).status_code == 404
    assert api.http.delete(f"/api/leads/{lead_id}", headers=rival).status_code == 404
    assert api.http.get("/api/leads", headers=rival).json()["items"] == []


def test_settings_without_keys_are_refused():
    import pytest

    from cloud_api.core.config import ConfigError

    with pytest.raises(ValueError, match="PHOTOFLUX_FIELD_KEYS"):
        cloud_settings(field_keys=[])
    with pytest.raises(ValueError, match="32 bytes"):
        cloud_settings(field_keys=["k1:c2hvcnQ="])
    assert issubclass(ConfigError, ValueError)
