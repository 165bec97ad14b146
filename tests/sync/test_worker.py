"""The app's background sync thread: sends on wake, stops on request or on a refused
token, and never loses what it could not send."""

from __future__ import annotations

import queue

from photoflux_desktop.sync.drain import DrainReport
from photoflux_desktop.sync.leads import lead_body
from photoflux_desktop.sync.link import CloudLink
from photoflux_desktop.sync.outbox import Outbox
from photoflux_desktop.sync.worker import SyncWorker
from tests.cloud.live import Api, LiveServer


def test_the_worker_sends_when_woken_and_stops_on_request(
    folders: dict[str, str], server: LiveServer, api: Api
) -> None:
    studio = api.studio("Worker Studio")
    link = CloudLink(server.url, api.device(studio), "environment")
    reports: queue.Queue[DrainReport] = queue.Queue()
    with Outbox() as outbox:
        worker = SyncWorker(outbox, link, interval_s=3600, on_report=reports.put).start()
        assert reports.get(timeout=60).sent["lead"] == 0  # first pass: nothing queued
        lead = outbox.add_lead(lead_body("woken@example.org", consent=True))
        worker.wake()
        assert reports.get(timeout=60).sent["lead"] == 1
        worker.stop()
        assert not worker.running
        assert outbox.lead_state(lead)[0] == "sent"  # type: ignore[index]
    assert server.db.leads.count_documents({"studio_id": studio}) == 1


def test_a_refused_token_ends_the_worker_and_keeps_the_outbox(
    folders: dict[str, str], server: LiveServer
) -> None:
    reports: queue.Queue[DrainReport] = queue.Queue()
    with Outbox() as outbox:
        lead = outbox.add_lead(lead_body("kept@example.org", consent=True))
        link = CloudLink(server.url, "pfd_revoked-or-made-up", "environment")
        worker = SyncWorker(outbox, link, on_report=reports.put).start()
        report = reports.get(timeout=60)
        worker.stop()
        assert report.stopped == "token_refused"
        assert not worker.running
        assert outbox.lead_state(lead) == ("pending", None)
