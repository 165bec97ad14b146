"""Health, readiness, metrics, logs, limits, CORS, headers and error bodies."""

from __future__ import annotations

import json
import os
import time

import httpx
import pytest

from tests.cloud.live import Api, LiveServer, bearer, event, lead


def test_health_and_readiness(server: LiveServer):
    with server.client() as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        ready = http.get("/readyz")
    assert ready.status_code == 200
    real = bool(os.environ.get("PHOTOFLUX_TEST_MONGODB_URI"))
    assert ready.json() == {
        "status": "ready",
        "storage": "mongodb" if real else "embedded",
        "durable": real,
    }


def test_readiness_fails_when_the_database_does_not_answer(make_server, monkeypatch):
    live = make_server()
    monkeypatch.setattr(live.app.state.ctx.storage, "ping", lambda: False)
    with live.client() as http:
        response = http.get("/readyz")
        assert http.get("/healthz").status_code == 200
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_http_requests_and_business_events(make_server):
    live = make_server()
    api = Api(live)
    token = api.device(api.studio())
    api.http.post("/api/leads", json=lead(), headers=bearer(token))
    api.http.post("/api/events", json={"events": [event(), event()]}, headers=bearer(token))
    text = api.http.get("/metrics").text
    assert _metric(text, 'photoflux_leads_total{status="created"}') == 1
    assert _metric(text, 'photoflux_events_total{outcome="accepted"}') == 2
    assert _metric(text, 'photoflux_logins_total{outcome="ok"}') >= 1
    assert 'handler="/api/events"' in text
    assert "photoflux_http_request_duration_seconds" in text or "http_request_duration" in text


def test_metrics_can_require_a_scrape_token(make_server):
    live = make_server(metrics_token="scrape-token-for-prometheus")
    with live.client() as http:
        assert http.get("/metrics").status_code == 401
        assert http.get("/metrics", headers=bearer("wrong")).status_code == 401
        assert (
            http.get("/metrics", headers=bearer("scrape-token-for-prometheus")).status_code == 200
        )


def test_metrics_without_a_token_are_for_internal_addresses_only(server: LiveServer):
    with server.client() as http:
        assert http.get("/metrics").status_code == 200  # loopback
        # a trusted proxy (loopback here) says the caller is on the internet
        outside = http.get("/metrics", headers={"X-Forwarded-For": "93.184.216.34"})
        inside = http.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"})
    assert outside.status_code == 403
    assert inside.status_code == 200


def test_every_response_carries_a_request_id_and_echoes_a_good_one(server: LiveServer):
    with server.client() as http:
        generated = http.get("/healthz").headers["x-request-id"]
        echoed = http.get("/healthz", headers={"X-Request-ID": "trace-1234abcd"})
        hostile = http.get("/healthz", headers={"X-Request-ID": "bad id\twith junk"})
    assert len(generated) == 32
    assert echoed.headers["x-request-id"] == "trace-1234abcd"
    assert hostile.headers["x-request-id"] != "bad id\twith junk"


def test_access_log_is_json_with_the_request_id(make_server, capfd):
    from cloud_api.core.observability import configure_logging

    # logging is process-wide: in a test process shared with the desktop CLI's in-process
    # tests (pytest-xdist), their configuration may be the last one; serve() sets this
    configure_logging("INFO")
    live = make_server(log_level="INFO")
    with live.client() as http:
        http.get("/healthz", headers={"X-Request-ID": "log-check-42"})
    # the server thread writes the line just after the response went out
    access, waited, seen = [], 0.0, ""
    while not access and waited < 5:
        seen += capfd.readouterr().err
        lines = [json.loads(x) for x in seen.splitlines() if x.startswith("{")]
        access = [x for x in lines if x.get("event") == "request" and x.get("path") == "/healthz"]
        time.sleep(0.05)
        waited += 0.05
    assert access
    assert access[-1]["request_id"] == "log-check-42"
    assert access[-1]["status"] == 200


def test_security_headers_on_api_and_admin(server: LiveServer):
    with server.client() as http:
        api = http.get("/healthz")
        admin = http.get("/admin/login")
    assert api.headers["referrer-policy"] == "no-referrer"
    assert admin.headers["referrer-policy"] == "same-origin"
    for response in (api, admin):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "default-src 'self'" in admin.headers["content-security-policy"]
    assert "strict-transport-security" not in api.headers  # plain HTTP, no proxy


def test_hsts_behind_a_tls_proxy(server: LiveServer):
    with server.client() as http:
        proxied = http.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "max-age=" in proxied.headers["strict-transport-security"]


def test_cors_allows_only_configured_origins(make_server):
    live = make_server(cors_origins="https://studio.example.com")
    with live.client() as http:
        good = http.options(
            "/api/events",
            headers={
                "Origin": "https://studio.example.com",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        evil = http.options(
            "/api/events",
            headers={"Origin": "https://evil.example.net", "Access-Control-Request-Method": "POST"},
        )
        simple = http.get("/healthz", headers={"Origin": "https://evil.example.net"})
    assert good.status_code == 200
    assert good.headers["access-control-allow-origin"] == "https://studio.example.com"
    assert evil.status_code == 400
    assert "access-control-allow-origin" not in evil.headers
    assert "access-control-allow-origin" not in simple.headers


def test_bodies_over_the_limit_are_refused_before_they_are_read(make_server):
    live = make_server(max_body_bytes=4096)
    api = Api(live)
    token = api.device(api.studio())
    big = {"events": [event() for _ in range(40)]}
    declared = api.http.post("/api/events", json=big, headers=bearer(token))
    assert declared.status_code == 413
    assert declared.json()["kind"] == "too_large"

    def chunks():
        payload = json.dumps(big).encode()
        for i in range(0, len(payload), 1000):
            yield payload[i : i + 1000]

    streamed = httpx.post(
        f"{live.url}/api/events",
        content=chunks(),
        headers=bearer(token) | {"Content-Type": "application/json"},
    )
    assert streamed.status_code == 413
    small = api.http.post("/api/events", json={"events": [event()]}, headers=bearer(token))
    assert small.status_code == 200


def test_login_is_rate_limited_per_client_with_retry_after(make_server):
    live = make_server(rate_limit_anonymous="3/minute")
    with live.client() as http:
        codes = [
            http.post(
                "/api/auth/login", json={"email": "a@example.com", "password": "x"}
            ).status_code
            for _ in range(4)
        ]
        limited = http.post("/api/auth/refresh", json={"refresh_token": "pfr_x"})
    assert codes == [401, 401, 401, 429]
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["kind"] == "rate_limited"


def test_guessing_one_accounts_password_is_limited_across_addresses(make_server):
    from tests.cloud.live import ADMIN_EMAIL

    live = make_server(
        rate_limit_account="3/minute",
        rate_limit_anonymous="1000/minute",
        login_backoff_seconds=60,
    )
    with live.client() as http:

        def guess(address: str, email: str = ADMIN_EMAIL.upper()) -> int:
            return http.post(
                "/api/auth/login",
                json={"email": email, "password": "guess"},
                headers={"X-Forwarded-For": address},  # a different client each time
            ).status_code

        codes = [guess(f"10.0.0.{i}") for i in range(4)]
        # past the account's failure budget each further failure makes its address wait
        again = guess("10.0.0.3")
        other = guess("10.0.0.3", "x@example.com")
    assert codes == [401, 401, 401, 401]
    assert again == 429
    assert other == 401  # another account is unaffected


def test_authenticated_calls_are_rate_limited_per_token(make_server):
    live = make_server(rate_limit_token="5/minute")
    api = Api(live)
    first, second = api.device(api.studio()), None
    second = api.device(api.studio("Another"))
    codes = [api.http.get("/api/auth/me", headers=bearer(first)).status_code for _ in range(6)]
    assert codes[:5] == [200] * 5
    assert codes[5] == 429
    # another token has its own budget
    assert api.http.get("/api/auth/me", headers=bearer(second)).status_code == 200


def test_guessing_tokens_spends_the_address_budget(make_server):
    live = make_server(rate_limit_anonymous="3/minute")
    with live.client() as http:
        codes = [
            http.get("/api/auth/me", headers=bearer(f"pfd_guess{i}")).status_code for i in range(5)
        ]
    assert codes[:3] == [401, 401, 401]
    assert 429 in codes[3:]


def test_unexpected_errors_answer_a_generic_body(make_server, monkeypatch):
    live = make_server()
    api = Api(live)
    token = api.device(api.studio())

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr("cloud_api.store.events.insert_batch", broken)
    with live.client(headers=bearer(token)) as http:
        response = http.post("/api/events", json={"events": [event()]})
    assert response.status_code == 500
    body = response.json()
    assert body["kind"] == "internal"
    assert body["request_id"] == response.headers["x-request-id"]
    assert "secret" not in response.text
    assert "Traceback" not in response.text


@pytest.mark.parametrize("path", ["/api/nothing", "/admin/nothing"])
def test_unknown_routes_are_json_404s(server: LiveServer, path: str):
    with server.client() as http:
        response = http.get(path)
    assert response.status_code == 404
    assert response.json()["kind"] == "not_found"


def test_openapi_describes_every_api_route(server: LiveServer):
    with server.client() as http:
        spec = http.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/auth/login",
        "/api/auth/refresh",
        "/api/studios",
        "/api/studios/{studio_id}/devices",
        "/api/leads",
        "/api/events",
        "/api/leads/{lead_id}/export",
        "/api/leads/{lead_id}",
        "/healthz",
        "/readyz",
        "/metrics",
        "/admin",
    ):
        assert path in paths, path
    served = {regex.pattern for regex, _ in server.app.state.route_methods}
    assert len(served) >= 20
    documented_paths = {path for path in paths}
    for regex, _ in server.app.state.route_methods:
        assert any(regex.match(p.replace("{", "").replace("}", "")) for p in documented_paths), (
            regex.pattern
        )


def test_limits_are_shared_through_redis_by_several_workers(make_server):
    from tests.cloud.redis_server import redis_server

    with redis_server() as url:
        first = make_server(redis_url=url, rate_limit_anonymous="3/minute")
        second = make_server(redis_url=url, rate_limit_anonymous="3/minute")
        body = {"email": "nobody@example.com", "password": "x"}
        codes = []
        for live in (first, second, first, second):
            with live.client() as http:
                codes.append(http.post("/api/auth/login", json=body).status_code)
    assert codes == [401, 401, 401, 429]
