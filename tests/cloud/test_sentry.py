"""Errors reach Sentry when a DSN is set, without credentials or personal data."""

from __future__ import annotations

import json
from typing import ClassVar

import sentry_sdk
from sentry_sdk.transport import Transport

from cloud_api.core.observability import init_sentry, scrub
from tests.cloud.live import Api, bearer, event


class Capture(Transport):
    sent: ClassVar[list[dict]] = []

    def capture_envelope(self, envelope) -> None:
        for item in envelope.items:
            if item.type == "event":
                Capture.sent.append(json.loads(item.payload.get_bytes()))


def test_scrub_removes_credentials_and_addresses():
    event_data = {
        "request": {"headers": {"Authorization": "Bearer pfd_secret", "X-Other": "fine"}},
        "extra": {"note": "mail jane.doe@example.org now", "password": "hunter2"},
        "list": ["x@example.com"],
    }
    clean = scrub(event_data)
    assert clean["request"]["headers"]["Authorization"] == "[scrubbed]"
    assert clean["request"]["headers"]["X-Other"] == "fine"
    assert clean["extra"]["note"] == "mail [email] now"
    assert clean["extra"]["password"] == "[scrubbed]"
    assert clean["list"] == ["[email]"]


def test_an_unhandled_error_is_reported_scrubbed(make_server, monkeypatch):
    Capture.sent.clear()
    live = make_server()
    init_sentry("https://public@sentry.example.com/1", "test", transport=Capture)
    try:
        api = Api(live)
        device = api.device(api.studio())

        def broken(*args, **kwargs):
            raise RuntimeError("boom for jane.doe@example.org")

        monkeypatch.setattr("cloud_api.store.events.insert_batch", broken)
        with live.client(headers=bearer(device)) as http:
            assert http.post("/api/events", json={"events": [event()]}).status_code == 500
        sentry_sdk.flush()
    finally:
        sentry_sdk.init(dsn=None)
    assert Capture.sent, "no event reached the transport"
    payload = json.dumps(Capture.sent)
    assert "RuntimeError" in payload
    assert "jane.doe@example.org" not in payload
    assert device not in payload
