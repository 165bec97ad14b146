"""Issue 10, sign-in findings: lockout by guessers (1), access tokens outliving their
session (6), logout CSRF (10), token claims a signature alone does not vouch for."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import jwt
import pytest

from cloud_api.core.login_guard import BackoffPolicy
from cloud_api.core.tokens import digest
from tests.cloud.live import ADMIN_EMAIL, ADMIN_PASSWORD, Api, LiveServer, bearer

WRONG = {"email": ADMIN_EMAIL, "password": "a wrong guess"}
RIGHT = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}


def from_address(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}  # the test server trusts loopback as its proxy


def dashboard_login(http, live: LiveServer, address: str, password: str = ADMIN_PASSWORD):
    return http.post(
        "/admin/login",
        data={"email": ADMIN_EMAIL, "password": password},
        headers={"Origin": live.url} | from_address(address),
    )


def test_guessers_from_many_addresses_cannot_lock_the_owner_out(make_server):
    live = make_server(
        rate_limit_account="10/minute", rate_limit_anonymous="1000/minute", login_backoff_seconds=60
    )
    with live.client(follow_redirects=False) as http:
        guesses = [
            http.post("/api/auth/login", json=WRONG, headers=from_address(f"10.0.0.{i}"))
            for i in range(12)
        ]
        assert [g.status_code for g in guesses] == [401] * 12
        owner = http.post("/api/auth/login", json=RIGHT, headers=from_address("192.0.2.7"))
        assert owner.status_code == 200, owner.text
        # the dashboard form shares the policy, and lets the owner in too
        assert dashboard_login(http, live, "192.0.2.8").status_code == 303
        # while the account is under attack, an address that failed on it waits at once
        retry = http.post("/api/auth/login", json=RIGHT, headers=from_address("10.0.0.11"))
        assert retry.status_code == 429
        assert int(retry.headers["retry-after"]) >= 1


def test_an_address_that_keeps_failing_waits_longer_each_time(make_server):
    live = make_server(
        login_free_failures=2, login_backoff_seconds=30, rate_limit_anonymous="1000/minute"
    )
    guesser = from_address("203.0.113.9")
    with live.client(follow_redirects=False) as http:
        codes = [
            http.post("/api/auth/login", json=WRONG, headers=guesser).status_code for _ in range(3)
        ]
        assert codes == [401, 401, 401]
        waiting = http.post("/api/auth/login", json=RIGHT, headers=guesser)
        assert waiting.status_code == 429  # even the right password waits from there
        assert 25 <= int(waiting.headers["retry-after"]) <= 30
        assert waiting.json()["kind"] == "rate_limited"
        form = dashboard_login(http, live, "203.0.113.9")
        assert form.status_code == 429  # the dashboard form checks the same record
        owner = http.post("/api/auth/login", json=RIGHT, headers=from_address("192.0.2.1"))
        assert owner.status_code == 200


def test_an_ipv6_guesser_cannot_escape_backoff_by_moving_within_its_64(make_server):
    # one host holds a whole /64: counting single IPv6 addresses gave it 2**64 fresh ones,
    # each allowed its free failures, so the backoff (and the per-address limit) never bit
    live = make_server(
        login_free_failures=2, login_backoff_seconds=30, rate_limit_anonymous="1000/minute"
    )
    with live.client(follow_redirects=False) as http:
        codes = [
            http.post(
                "/api/auth/login", json=WRONG, headers=from_address(f"2001:db8:1:2::{i:x}")
            ).status_code
            for i in range(1, 4)
        ]
        assert codes == [401, 401, 401]
        moved = http.post("/api/auth/login", json=WRONG, headers=from_address("2001:db8:1:2::99"))
        assert moved.status_code == 429
        form = dashboard_login(http, live, "2001:db8:1:2:ffff::1", password="a wrong guess")
        assert form.status_code == 429
        # another /64 (the owner's) is not held back
        owner = http.post("/api/auth/login", json=RIGHT, headers=from_address("2001:db8:1:3::1"))
        assert owner.status_code == 200, owner.text


def test_the_per_address_limit_counts_an_ipv6_64_as_one_client(make_server):
    live = make_server(rate_limit_anonymous="3/minute")
    with live.client() as http:
        codes = [
            http.post(
                "/api/auth/refresh",
                json={"refresh_token": "pfr_unknown"},
                headers=from_address(f"2001:db8:5:6::{i:x}"),
            ).status_code
            for i in range(1, 6)
        ]
    assert codes[:3] == [401, 401, 401]
    assert codes[3:] == [429, 429]


def test_backoff_doubles_and_is_capped():
    policy = BackoffPolicy(free_failures=3, base_seconds=2, cap_seconds=60)
    waits = [policy.wait_after(n, under_attack=False) for n in range(1, 10)]
    assert waits == [0, 0, 0, 2, 4, 8, 16, 32, 60]
    assert policy.wait_after(1, under_attack=True) == 2


def test_logout_revokes_the_access_token_at_once(api: Api):
    pair = api.login()
    assert api.http.get("/api/auth/me", headers=bearer(pair["access_token"])).status_code == 200
    out = api.http.post("/api/auth/logout", json={"refresh_token": pair["refresh_token"]})
    assert out.status_code == 204
    assert api.http.get("/api/auth/me", headers=bearer(pair["access_token"])).status_code == 401
    other = api.login()  # another session of the same person is unaffected
    assert api.http.get("/api/auth/me", headers=bearer(other["access_token"])).status_code == 200


def test_a_replayed_refresh_token_revokes_the_access_tokens_of_its_family(api: Api):
    first = api.login()
    second = api.http.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    replay = api.http.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    for access in (first["access_token"], second.json()["access_token"]):
        assert api.http.get("/api/auth/me", headers=bearer(access)).status_code == 401


def test_a_sign_out_during_a_refresh_leaves_no_working_refresh_token(api: Api, monkeypatch):
    # a logout landing between spending the old token and storing the next one revoked
    # the family before the new token existed: that token went on working, and once the
    # revocation marker expired (a day) it issued working access tokens again
    from cloud_api.store import refresh_tokens

    first = api.login()
    store = refresh_tokens.store

    def store_after_a_sign_out(db, token_hash, user_id, lifetime, family=None):
        refresh_tokens.revoke_family(db, family)  # the sign-out, just in between
        return store(db, token_hash, user_id, lifetime, family)

    monkeypatch.setattr(refresh_tokens, "store", store_after_a_sign_out)
    raced = api.http.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    monkeypatch.undo()
    assert raced.status_code == 401
    db = api.server.db
    family = db.refresh_tokens.find_one({"_id": digest(first["refresh_token"])})["family"]
    assert db.refresh_tokens.count_documents({"family": family}) == 2  # the new one was stored
    assert db.refresh_tokens.count_documents({"family": family, "revoked": False}) == 0


@contextmanager
def signed_in_browser(live: LiveServer) -> Iterator[httpx.Client]:
    with live.client(headers={"Origin": live.url}, follow_redirects=False) as http:
        response = http.post(
            "/admin/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        assert response.status_code == 303
        yield http


def csrf_on(http: httpx.Client) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', http.get("/admin").text).group(1)


def test_logout_from_another_site_or_without_the_token_does_nothing(server: LiveServer):
    with signed_in_browser(server) as http:
        csrf = csrf_on(http)
        for headers, data in (
            ({"Origin": "https://evil.example"}, {"csrf": csrf}),
            ({}, {"csrf": "0" * 64}),
            ({}, {}),
        ):
            response = http.post("/admin/logout", data=data, headers=headers)
            assert "set-cookie" not in response.headers
            assert http.get("/admin").status_code == 200  # still signed in


def test_dashboard_sign_out_revokes_the_session_token(server: LiveServer):
    with signed_in_browser(server) as http:
        token = http.cookies.get("pf_admin")
        assert server.client().get("/api/auth/me", headers=bearer(token)).status_code == 200
        out = http.post("/admin/logout", data={"csrf": csrf_on(http)})
        assert out.status_code == 303
        assert out.headers["location"] == "/admin/login"
    with server.client() as other:
        assert other.get("/api/auth/me", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c | {"exp": str(int(c["exp"]))},  # a string that int() would accept
        lambda c: c | {"iat": str(int(c["iat"]))},
        lambda c: c | {"exp": int(time.time()) + 365 * 24 * 3600},  # far beyond the lifetime
        lambda c: c | {"typ": "refresh"},
        lambda c: {k: v for k, v in c.items() if k != "typ"},
        lambda c: {k: v for k, v in c.items() if k != "fam"},
        lambda c: c | {"iat": int(time.time()) + 3600, "nbf": int(time.time())},
    ],
)
def test_signed_tokens_with_odd_claims_are_refused(api: Api, server: LiveServer, change):
    claims = jwt.decode(api.login()["access_token"], options={"verify_signature": False})
    key = server.settings.secret_key.get_secret_value()
    assert (
        api.http.get(
            "/api/auth/me", headers=bearer(jwt.encode(claims, key, algorithm="HS256"))
        ).status_code
        == 200
    )  # the unchanged claims, re-signed, still work
    forged = jwt.encode(change(claims), key, algorithm="HS256")
    assert api.http.get("/api/auth/me", headers=bearer(forged)).status_code == 401
