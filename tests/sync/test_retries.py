"""5xx and 429 are retried (429 after what Retry-After says), with the same ids, so
the real API stores everything exactly once; other refusals are final and kept."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stamina.instrumentation
from stamina.instrumentation import RetryDetails

from photoflux_desktop.sync.client import CloudClient, RetryPolicy
from photoflux_desktop.sync.drain import Drainer
from photoflux_desktop.sync.events import event_body
from photoflux_desktop.sync.leads import lead_body
from photoflux_desktop.sync.outbox import Outbox
from tests.cloud.live import LiveServer
from tests.sync.conftest import linked, one_json, photoflux
from tests.sync.stub import FlakyProxy

FAST = RetryPolicy(attempts=6, wait_initial_s=0.01, wait_max_s=0.05, wait_jitter_s=0.01)


@pytest.fixture
def retries() -> Iterator[list[RetryDetails]]:
    seen: list[RetryDetails] = []
    previous = stamina.instrumentation.get_on_retry_hooks()
    stamina.instrumentation.set_on_retry_hooks([seen.append])
    yield seen
    stamina.instrumentation.set_on_retry_hooks(previous)


def test_5xx_and_429_are_retried_and_everything_arrives_once(
    folders: dict[str, str],
    server: LiveServer,
    studio: str,
    device_token: str,
    retries: list[RetryDetails],
) -> None:
    script = [(503, {}), (429, {"Retry-After": "1"}), (502, {})]
    with Outbox() as outbox, FlakyProxy(server.url, script) as proxy:
        lead = outbox.add_lead(lead_body("retry.me@example.org", consent=True))
        events = outbox.add_events(event_body("app_opened", "s-9") for _ in range(700))
        with CloudClient(proxy.url, device_token, policy=FAST) as client:
            report = Drainer(outbox, client).run()

        assert report.ok, report.error
        assert report.sent == {"lead": 1, "event": 700, "delivery": 0, "share": 0}
        assert [status for _, status in proxy.seen] == [503, 429, 502, 201, 200, 200]
        # the 429's wait came from Retry-After; the others from the exponential backoff
        assert [round(r.wait_for, 2) for r in retries][1] == 1.0
        assert all(r.wait_for <= 0.06 for i, r in enumerate(retries) if i != 1)
        assert outbox.lead_state(lead)[0] == "sent"
    stored = server.db.events.count_documents(
        {"_id": {"$in": [f"{studio}:{event_id}" for event_id in events]}}
    )
    assert stored == 700


def test_a_validation_refusal_fails_that_event_only_and_keeps_the_reason(
    folders: dict[str, str], server: LiveServer, device_token: str
) -> None:
    with Outbox() as outbox:
        outbox.add_events(event_body("style_selected", "s-1", style="ink") for _ in range(3))
        bad = outbox.add_event(event_body("style_selected", "s-1", note="call +44 20 7946 0958"))
        outbox.add_events(event_body("style_selected", "s-1") for _ in range(2))
        with CloudClient(server.url, device_token, policy=FAST) as client:
            report = Drainer(outbox, client).run()
        assert report.ok and report.sent["event"] == 5 and report.failed_now == 1
        [failure] = outbox.failures()
        assert failure["id"] == bad and failure["kind"] == "event"
        assert "422" in failure["reason"] and "personal data" in failure["reason"]
        assert outbox.counts()["event"] == {"pending": 0, "failed": 1, "sent": 5}


def test_5xx_after_every_retry_is_unreachable_and_schedules_the_next_attempt(
    folders: dict[str, str], server: LiveServer, device_token: str, retries: list[RetryDetails]
) -> None:
    with Outbox() as outbox, FlakyProxy(server.url, [(500, {})] * 6) as proxy:
        lead = outbox.add_lead(lead_body("later@example.org", consent=True))
        with CloudClient(proxy.url, device_token, policy=FAST) as client:
            report = Drainer(outbox, client, honour_schedule=True).run()
            assert report.stopped == "unreachable" and len(proxy.seen) == 6
            # the background loop leaves it alone until its next attempt is due
            assert Drainer(outbox, client, honour_schedule=True).run().sent["lead"] == 0
            assert len(proxy.seen) == 6
            # an explicit sync does not wait
            assert Drainer(outbox, client).run().sent["lead"] == 1
        assert outbox.lead_state(lead)[0] == "sent"
        assert outbox.status()["last_error"] is None


def test_sync_reports_refused_items_with_the_reason(
    folders: dict[str, str], server: LiveServer, device_token: str
) -> None:
    with Outbox() as outbox:
        bad = outbox.add_event(event_body("photo_loaded", "s-3", where="call +44 20 7946 0958"))
        outbox.add_event(event_body("photo_loaded", "s-3"))
    env = linked(server.url, device_token, folders)
    result = photoflux("sync", "--once", "--json", env=env)
    assert result.returncode == 0, result.stderr
    summary = one_json(result)
    assert summary["sent_now"]["event"] == 1 and summary["failed"]["event"] == 1
    [failure] = summary["recent_failures"]
    assert failure["id"] == bad and "personal data" in failure["reason"]
    human = photoflux("sync", "--once", env=env)
    assert f"failed event {bad}: refused by the cloud (422)" in human.stdout
