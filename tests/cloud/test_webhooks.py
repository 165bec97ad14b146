"""Lead webhooks over real loopback HTTP: signed, retried after a failure, logged; and
the SSRF guard that keeps a studio admin from aiming the service at private addresses."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from tests.cloud.live import Api, LiveServer, bearer, cloud_settings, lead
from tests.cloud.webhook_receiver import Receiver


def wait_for(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture(scope="module")
def hooked_server():
    with LiveServer(
        cloud_settings(
            webhook_allow_loopback=True,
            webhook_retry_seconds=0.2,
            webhook_attempts=3,
            rate_limit_anonymous="10000/minute",
        )
    ) as live:
        api = Api(live)
        yield live, api, api.admin()


@pytest.fixture
def hooked(hooked_server):
    """A fresh studio (so each test reads its own delivery log) and its device."""
    live, api, boss = hooked_server
    studio = api.http.post("/api/studios", json={"name": "Hooked"}, headers=boss).json()["id"]
    device = api.http.post(
        f"/api/studios/{studio}/devices", json={"name": "kiosk"}, headers=boss
    ).json()["device_token"]
    return live, api, studio, device, boss


def test_a_new_lead_is_posted_signed_and_retried_after_a_failure(hooked) -> None:
    _live, api, studio, device, boss = hooked
    with Receiver(statuses=[500]) as receiver:
        secret = "a-shared-secret-of-some-length"
        put = api.http.put(
            f"/api/studios/{studio}/webhook",
            json={"url": receiver.url, "secret": secret},
            headers=boss,
        )
        assert put.status_code == 200 and put.json()["secret"] == secret
        shown = api.http.get(f"/api/studios/{studio}/webhook", headers=boss).json()
        assert shown["url"] == receiver.url and shown["secret"] is None  # shown once

        body = lead("crm@example.org", campaign="Summer Fair", marketing=True)
        body |= {"marketing_text_version": "m-2", "marketing_consented_at": body["consented_at"]}
        assert api.http.post("/api/leads", json=body, headers=bearer(device)).status_code == 201

        failed_status, first_headers, _first = receiver.calls.get(timeout=20)
        status, headers, raw = receiver.calls.get(timeout=20)  # the retry
    assert (failed_status, status) == (500, 200)
    assert headers["X-PhotoFlux-Delivery"] == first_headers["X-PhotoFlux-Delivery"]
    stamp = headers["X-PhotoFlux-Timestamp"]
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    assert headers["X-PhotoFlux-Signature"] == f"sha256={expected}"
    assert abs(int(stamp) - time.time()) < 120
    payload = json.loads(raw)
    exported = api.http.get(f"/api/leads/{payload['lead']['id']}/export", headers=boss).json()
    [sent] = wait_for(  # the GDPR export names the CRM as a recipient of this person's data
        lambda: [
            row
            for row in api.http.get(
                f"/api/leads/{payload['lead']['id']}/export", headers=boss
            ).json()["webhook_deliveries"]
            if row["status"] == "sent"
        ]
    )
    assert sent["attempts"] == 2 and exported["webhook_deliveries"][0]["id"] == sent["id"]
    assert payload["event"] == "lead.created"
    assert payload["lead"]["email"] == "crm@example.org"
    assert payload["lead"]["campaign"] == "Summer Fair"
    [consent] = payload["lead"]["consents"]
    assert consent["processing_text_version"] == "2026-01"
    assert consent["marketing"] is True and consent["marketing_text_version"] == "m-2"

    def logged():
        rows = api.http.get(f"/api/studios/{studio}/webhook/deliveries", headers=boss).json()
        return rows if rows and rows[0]["status"] == "sent" else None

    [row] = wait_for(logged)
    assert row["attempts"] == 2 and [e["status"] for e in row["log"]] == [500, 200]


def test_an_endpoint_that_stays_down_fails_after_the_last_attempt(hooked) -> None:
    _live, api, studio, device, boss = hooked
    with Receiver(statuses=[503, 503, 503, 503]) as receiver:
        api.http.put(f"/api/studios/{studio}/webhook", json={"url": receiver.url}, headers=boss)
        api.http.post("/api/leads", json=lead("down@example.org"), headers=bearer(device))

        def failed():
            rows = api.http.get(f"/api/studios/{studio}/webhook/deliveries", headers=boss).json()
            return rows if rows and rows[0]["status"] == "failed" else None

        [row] = wait_for(failed)
    assert row["attempts"] == 3 and row["last_error"] == "the endpoint answered 503"


@pytest.fixture(scope="module")
def boss(api: Api) -> dict[str, str]:
    return api.admin()


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",  # not https
        "https://10.0.0.7/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://localhost/hook",
        "https://user:pw@example.com/hook",
        "ftp://example.com/hook",
        # the other spellings of an address a resolver takes
        "https://127.1/hook",
        "https://0x7f000001/hook",
        "https://2130706433/hook",
        "https://017700000001/hook",
        "https://0/hook",
        "https://10.0.0.1\u3002/hook",
        "https://127\uff0e0\uff0e0\uff0e1/hook",
        "https://localhost./hook",
        "https://crm.localhost./hook",
        # IPv6 addresses that carry an inside IPv4 one
        "https://[64:ff9b::7f00:1]/hook",
        "https://[2002:a00:1::]/hook",
        "https://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/hook",  # Teredo to 10.0.0.1
    ],
)
def test_private_and_unsafe_targets_are_refused(
    api: Api, studio: str, boss: dict[str, str], url: str
) -> None:
    """On a service with default settings (no loopback allowance)."""
    answer = api.http.put(f"/api/studios/{studio}/webhook", json={"url": url}, headers=boss)
    assert answer.status_code == 422, answer.text


def test_names_resolving_to_private_addresses_are_refused_at_send_time(monkeypatch) -> None:
    import socket

    from cloud_api.core.urlguard import UnsafeUrl, resolve_checked

    real = socket.getaddrinfo

    def dns(host, port, *args, **kwargs):  # a public-looking name aimed at the inside
        if host == "crm.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    with pytest.raises(UnsafeUrl, match="private or reserved") as inside:
        resolve_checked("https://crm.example.com/hook")
    assert "10.1.2.3" not in str(inside.value)  # the log must not map inside names
    resolve_checked("http://127.0.0.1:1/hook", allow_loopback=True)
    with pytest.raises(UnsafeUrl) as unresolved:
        resolve_checked("https://nonexistent.invalid/hook")
    assert unresolved.value.transient  # retried later, not failed for good


def test_the_request_goes_to_the_address_that_was_checked(monkeypatch) -> None:
    """DNS rebinding: a name that resolves to an allowed address when checked and to
    another when the request connects. The sender must connect to the checked one."""
    import socket

    real = socket.getaddrinfo
    lookups: list[str] = []

    def dns(host, port, *args, **kwargs):
        if host == "crm.rebind.localhost":
            lookups.append(host)
            # first answer (the check): the receiver; any later one: an address where
            # nothing listens (TEST-NET-1), standing in for an inside address
            address = "127.0.0.1" if len(lookups) == 1 else "192.0.2.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    settings = cloud_settings(
        webhook_allow_loopback=True, webhook_retry_seconds=0.2, webhook_attempts=1
    )
    with LiveServer(settings) as live, Receiver() as receiver:
        api = Api(live)
        boss = api.admin()
        studio = api.studio("Rebound")
        device = api.device(studio)
        url = receiver.url.replace("127.0.0.1", "crm.rebind.localhost")
        put = api.http.put(f"/api/studios/{studio}/webhook", json={"url": url}, headers=boss)
        assert put.status_code == 200, put.text
        assert api.http.post("/api/leads", json=lead(), headers=bearer(device)).status_code == 201
        _status, headers, _raw = receiver.calls.get(timeout=20)
    assert headers["Host"] == url.split("/")[2]  # the name, though sent to the address
    assert len(lookups) == 1  # resolved once, for the check, never again to connect


def test_a_pinned_request_keeps_the_name_for_host_and_tls() -> None:
    from cloud_api.core.urlguard import pinned

    pin = pinned("https://bücher.example:8443/hook?x=1", "2001:db8::1")
    assert pin.url == "https://[2001:db8::1]:8443/hook?x=1"
    assert pin.host == "xn--bcher-kva.example:8443" and pin.sni == "xn--bcher-kva.example"


class Trickler:
    """An endpoint that answers one header line every 0.2 s, for ever: each read is
    quick, so only a deadline for the whole request ends it."""

    def __init__(self) -> None:
        import socket
        import threading

        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                while not self.stop.wait(0.2):
                    try:
                        conn.sendall(b"X-Drip: 1\r\n")
                    except OSError:
                        break

    def __enter__(self) -> Trickler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


def test_an_endpoint_that_never_finishes_answering_does_not_stall_other_studios() -> None:
    settings = cloud_settings(
        webhook_allow_loopback=True, webhook_timeout_seconds=1, webhook_attempts=1
    )
    with LiveServer(settings) as live, Trickler() as slow, Receiver() as fine:
        api = Api(live)
        boss = api.admin()
        studios = [api.studio("Slow"), api.studio("Fine")]
        for studio, url in zip(studios, (slow.url, fine.url), strict=True):
            put = api.http.put(f"/api/studios/{studio}/webhook", json={"url": url}, headers=boss)
            assert put.status_code == 200
        for studio in studios:  # the slow one first: the sender takes it first
            body = lead(f"{studio[:6]}@example.org")
            answer = api.http.post("/api/leads", json=body, headers=bearer(api.device(studio)))
            assert answer.status_code == 201
        status, _headers, _raw = fine.calls.get(timeout=20)

        def failed():
            rows = api.http.get(
                f"/api/studios/{studios[0]}/webhook/deliveries", headers=boss
            ).json()
            return rows if rows and rows[0]["status"] == "failed" else None

        [row] = wait_for(failed)
    assert status == 200 and "TimeoutError" in row["last_error"]
