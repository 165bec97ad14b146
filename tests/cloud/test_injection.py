"""MongoDB operator injection and other hostile bodies."""

from __future__ import annotations

import pytest

from tests.cloud.live import ADMIN_EMAIL, Api, bearer, event, lead


@pytest.mark.parametrize(
    "body",
    [
        {"email": {"$ne": None}, "password": {"$ne": None}},
        {"email": ADMIN_EMAIL, "password": {"$gt": ""}},
        {"email": ADMIN_EMAIL, "password": "x", "$where": "1"},
        {"email": ADMIN_EMAIL, "password": "x", "a.b": 1},
    ],
)
def test_login_refuses_operator_payloads(api: Api, body: dict):
    response = api.http.post("/api/auth/login", json=body)
    assert response.status_code in (400, 422)
    assert "access_token" not in response.text


def test_operator_keys_anywhere_in_a_body_are_refused(api: Api, device_token: str):
    nested = {"events": [event(properties={"$set": 1})]}
    dotted = {"events": [event(properties={"a.b": 1})]}
    deep = {"events": [event()], "x": [{"y": {"$where": "sleep(1000)"}}]}
    for body in (nested, dotted, deep):
        response = api.http.post("/api/events", json=body, headers=bearer(device_token))
        assert response.status_code == 400, body
        assert response.json()["kind"] == "bad_request"
    as_value = api.http.post(
        "/api/leads", json=lead(email={"$regex": ".*"}), headers=bearer(device_token)
    )
    assert as_value.status_code == 400
    typed = api.http.post("/api/leads", json=lead(email={"x": 1}), headers=bearer(device_token))
    assert typed.status_code == 422


def test_query_strings_cannot_smuggle_operators(api: Api):
    admin = api.admin()
    for url in (
        "/api/leads?email[$ne]=x",
        "/api/leads?studio_id[$ne]=x",
        "/api/leads?email=%7B%22%24ne%22%3Anull%7D",
    ):
        response = api.http.get(url, headers=admin)
        assert response.status_code in (200, 422)
        if response.status_code == 200:
            assert response.json()["items"] == []


def test_malformed_json_and_wrong_types(api: Api, device_token: str):
    headers = bearer(device_token) | {"Content-Type": "application/json"}
    for raw in (b"{", b"[]", b"null", b'{"events": "all"}', b"\xff\xfe", b'{"events": [1]}'):
        response = api.http.post("/api/events", content=raw, headers=headers)
        assert response.status_code == 422, raw
    deep = b'{"events": ' + b"[" * 100 + b"]" * 100 + b"}"
    assert api.http.post("/api/events", content=deep, headers=headers).status_code in (400, 422)
    form = api.http.post("/api/events", data={"events": "x"}, headers=bearer(device_token))
    assert form.status_code == 422


def test_path_parameters_are_treated_as_plain_strings(api: Api):
    admin = api.admin()
    for lead_id in ("%24ne", "..%2F..%2Fetc", "a" * 300):
        response = api.http.get(f"/api/leads/{lead_id}/export", headers=admin)
        assert response.status_code == 404


def test_hostile_nesting_is_a_clear_400_not_a_crash(api: Api, device_token: str):
    deep = b'{"events":' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    for content_type in ("application/json", None):
        headers = bearer(device_token) | ({"Content-Type": content_type} if content_type else {})
        response = api.http.post("/api/events", content=deep, headers=headers)
        assert response.status_code == 400
        assert "nested too deeply" in response.json()["detail"]


def test_a_body_without_content_type_is_guarded_too(api: Api, device_token: str):
    raw = b'{"events": [{"$where": "1"}]}'
    response = api.http.post("/api/events", content=raw, headers=bearer(device_token))
    assert response.status_code == 400
