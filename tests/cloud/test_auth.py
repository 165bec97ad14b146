"""Login, refresh rotation and revocation, and tokens that must be refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt

from tests.cloud.live import ADMIN_EMAIL, Api, bearer


def test_login_answers_the_documented_token_pair(api: Api):
    pair = api.login()
    assert set(pair) >= {"access_token", "refresh_token", "token_type"}
    assert pair["token_type"] == "bearer"
    me = api.http.get("/api/auth/me", headers=bearer(pair["access_token"]))
    assert me.status_code == 200
    assert me.json()["role"] == "admin"
    assert "studios:manage" in me.json()["scopes"]


def test_wrong_password_and_unknown_account_look_the_same(api: Api):
    wrong = api.http.post("/api/auth/login", json={"email": ADMIN_EMAIL, "password": "nope"})
    unknown = api.http.post(
        "/api/auth/login", json={"email": "nobody@photoflux.example.com", "password": "nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert "nope" not in wrong.text


def test_refresh_rotates_and_a_spent_token_revokes_the_family(api: Api):
    first = api.login()
    second = api.http.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert api.http.get("/api/auth/me", headers=bearer(rotated["access_token"])).status_code == 200

    # replaying the spent token is what a thief would do: the whole family dies
    replay = api.http.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    after = api.http.post("/api/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert after.status_code == 401


def test_logout_revokes_the_refresh_token(api: Api):
    pair = api.login()
    assert (
        api.http.post("/api/auth/logout", json={"refresh_token": pair["refresh_token"]}).status_code
        == 204
    )
    again = api.http.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 401


def test_unknown_refresh_token_is_refused(api: Api):
    response = api.http.post("/api/auth/refresh", json={"refresh_token": "pfr_made-up"})
    assert response.status_code == 401
    assert response.json()["kind"] == "unauthorized"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(api: Api, **changes) -> dict:
    real = jwt.decode(api.login()["access_token"], options={"verify_signature": False})
    return real | changes


def _sign(api: Api, claims: dict, algorithm: str = "HS256", key: str | None = None) -> str:
    secret = key or api.server.settings.secret_key.get_secret_value()
    return jwt.encode(claims, secret, algorithm=algorithm)


def forged_tokens(api: Api) -> dict[str, str]:
    now = datetime.now(UTC)
    claims = _claims(api)
    header_none = _b64({"alg": "none", "typ": "JWT"})
    real = api.login()["access_token"]
    head, _body, sig = real.split(".")
    return {
        "alg none": f"{header_none}.{_b64(claims)}.",
        "alg none with signature": f"{header_none}.{_b64(claims)}.{sig}",
        "wrong signature": _sign(api, claims, key="someone-elses-key-that-is-long-enough"),
        "tampered payload": f"{head}.{_b64(claims | {'role': 'admin', 'sub': 'x'})}.{sig}",
        "expired": _sign(api, claims | {"exp": int((now - timedelta(minutes=5)).timestamp())}),
        "wrong audience": _sign(api, claims | {"aud": "someone-else"}),
        "wrong issuer": _sign(api, claims | {"iss": "evil"}),
        "no expiry": _sign(api, {k: v for k, v in claims.items() if k != "exp"}),
        "not yet valid": _sign(api, claims | {"nbf": int((now + timedelta(hours=1)).timestamp())}),
        "other algorithm": _sign(api, claims, algorithm="HS512"),
        "unknown subject": _sign(api, claims | {"sub": "no-such-user"}),
        "role escalation": _sign(api, claims | {"role": "studio-admin", "sid": "x"}),
        "garbage": "not-a-token",
        "device prefix garbage": "pfd_not-issued",
        "empty-ish": "a.b.c",
    }


def test_forged_tokens_are_refused(api: Api):
    for label, token in forged_tokens(api).items():
        response = api.http.get("/api/studios", headers=bearer(token))
        assert response.status_code == 401, label
        assert response.headers["www-authenticate"] == "Bearer", label


def test_missing_or_non_bearer_authorization_is_refused(api: Api):
    assert api.http.get("/api/studios").status_code == 401
    basic = api.http.get("/api/studios", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert basic.status_code == 401


def test_device_token_cannot_use_admin_routes(api: Api, studio: str, device_token: str):
    device = bearer(device_token)
    assert api.http.post("/api/studios", json={"name": "x"}, headers=device).status_code == 403
    assert api.http.get("/api/leads", headers=device).status_code == 403
    assert api.http.get(f"/api/studios/{studio}/devices", headers=device).status_code == 403
    assert api.http.get("/api/admin/indexes", headers=device).status_code == 403
    assert (
        api.http.post(
            f"/api/studios/{studio}/devices", json={"name": "more"}, headers=device
        ).status_code
        == 403
    )


def test_admin_cannot_post_device_data(api: Api):
    response = api.http.post("/api/events", json={"events": []}, headers=api.admin())
    assert response.status_code in (403, 422)
    response = api.http.post(
        "/api/events",
        json={
            "events": [
                {
                    "id": "6f1c1f7e-8a7c-4b3e-9a56-1d2f3e4a5b6c",
                    "name": "app_started",
                    "ts": datetime.now(UTC).isoformat(),
                    "session": "s",
                }
            ]
        },
        headers=api.admin(),
    )
    assert response.status_code == 403


def test_studio_admin_sees_only_their_studio(api: Api, studio: str):
    other = api.studio("Other Studio")
    mine = api.studio_admin(studio, "boss@sunny.example.com")
    assert api.http.get(f"/api/studios/{studio}/devices", headers=mine).status_code == 200
    assert api.http.get(f"/api/studios/{other}/devices", headers=mine).status_code == 404
    assert (
        api.http.post(
            f"/api/studios/{other}/devices", json={"name": "sneaky"}, headers=mine
        ).status_code
        == 404
    )
    assert api.http.post("/api/studios", json={"name": "x"}, headers=mine).status_code == 403
    assert api.http.get(f"/api/leads?studio_id={other}", headers=mine).status_code == 403
    listed = api.http.get("/api/studios", headers=mine).json()
    assert [s["id"] for s in listed] == [studio]


def test_revoked_device_token_stops_working_at_once(api: Api, studio: str):
    issued = api.http.post(
        f"/api/studios/{studio}/devices", json={"name": "lost laptop"}, headers=api.admin()
    ).json()
    token = bearer(issued["device_token"])
    assert api.http.get("/api/auth/me", headers=token).status_code == 200
    revoke = api.http.delete(f"/api/studios/{studio}/devices/{issued['id']}", headers=api.admin())
    assert revoke.status_code == 204
    assert api.http.get("/api/auth/me", headers=token).status_code == 401
    devices = api.http.get(f"/api/studios/{studio}/devices", headers=api.admin()).json()
    assert next(d for d in devices if d["id"] == issued["id"])["revoked_at"] is not None


def test_device_tokens_are_stored_only_as_hashes(api: Api, server, studio: str):
    token = api.device(studio, "hash check")
    stored = list(server.db.devices.find())
    assert stored
    assert token not in json.dumps(stored, default=str)


def test_access_token_lifetime_is_an_hour(api: Api):
    claims = jwt.decode(api.login()["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["iss"] == "photoflux-cloud"
    assert claims["aud"] == "photoflux-api"
