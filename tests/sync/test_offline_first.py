"""Leads, events and deliveries recorded while the cloud is down arrive once it is up,
each exactly once; `photoflux sync` reports what it did and exits 5 while it cannot."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from photoflux_desktop.sync.events import event_body
from photoflux_desktop.sync.outbox import Outbox
from tests.cloud.live import Api, LiveServer, free_port
from tests.sync.conftest import linked, one_json, photoflux, tiny_jpeg


def test_what_was_queued_offline_arrives_once_the_cloud_is_up(
    folders: dict[str, str], make_server: Callable[..., LiveServer]
) -> None:
    added = one_json(
        photoflux(
            "lead",
            "add",
            "--email",
            "Jane.Doe@Example.org",
            "--name",
            "Jane",
            "--consent",
            "--json",
            env=folders,
        )
    )
    lead_id = added["id"]
    with Outbox() as outbox:
        event_ids = outbox.add_events(
            event_body("render_finished", "kiosk-1", style="watercolor", steps=4)
            for _ in range(1_200)
        )
        delivery_id = outbox.add_delivery(lead_id, tiny_jpeg(), style="watercolor")

    # the cloud is down (nothing listens on this port): nothing is lost, exit 5
    down = linked(f"http://127.0.0.1:{free_port()}", "no-server-yet", folders)
    offline = photoflux("sync", "--once", "--json", env=down)
    assert offline.returncode == 5, offline.stdout + offline.stderr
    report = one_json(offline)
    assert report["error"]["kind"] == "cloud"
    assert report["error"]["details"]["pending"] == {
        "lead": 1,
        "event": 1_200,
        "delivery": 1,
        "share": 0,
    }

    # the cloud comes up; the same outbox drains into it
    live = make_server()
    api = Api(live)
    studio = api.studio("Pop-up Booth")
    up = linked(live.url, api.device(studio), folders)
    online = photoflux("sync", "--once", "--json", env=up)
    assert online.returncode == 0, online.stdout + online.stderr
    summary = one_json(online)
    assert summary["sent_now"] == {"lead": 1, "event": 1_200, "delivery": 1, "share": 0}
    assert summary["pending"] == {"lead": 0, "event": 0, "delivery": 0, "share": 0}

    leads = api.http.get("/api/leads", params={"studio_id": studio}, headers=api.admin()).json()
    assert [(lead["email"], lead["consent_text_version"]) for lead in leads["items"]] == [
        ("Jane.Doe@example.org", "2026-01")
    ]
    stored = {doc["_id"].split(":", 1)[1] for doc in live.db.events.find({"studio_id": studio})}
    assert stored == set(event_ids)
    delivery = live.db.deliveries.find_one({"_id": f"{studio}:{delivery_id}"})
    assert delivery is not None and delivery["lead_id"] == leads["items"][0]["id"]

    # a second pass sends nothing again
    again = one_json(photoflux("sync", "--once", "--json", env=up))
    assert again["sent_now"] == {"lead": 0, "event": 0, "delivery": 0, "share": 0}
    assert live.db.events.count_documents({"studio_id": studio}) == 1_200


def test_doctor_reports_the_outbox_and_the_last_error(folders: dict[str, str]) -> None:
    photoflux("lead", "add", "--email", "jane@example.org", "--consent", env=folders)
    down = linked(f"http://127.0.0.1:{free_port()}", "token", folders)
    assert photoflux("sync", "--once", env=down).returncode == 5
    report = one_json(photoflux("doctor", "--json", env=down))
    sync = report["sync"]
    assert sync["linked"] is True and sync["credentials"] == "environment"
    assert sync["pending"]["lead"] == 1
    assert sync["last_sync_at"] is None
    assert "cannot reach the cloud" in sync["last_error"]


def test_a_lead_without_consent_is_refused_with_exit_2(folders: dict[str, str]) -> None:
    result = photoflux("lead", "add", "--email", "jane@example.org", env=folders)
    assert result.returncode == 2
    assert "Consent is required" in result.stderr
    bad = photoflux("lead", "add", "--email", "not-an-address", "--consent", "--json", env=folders)
    assert bad.returncode == 2
    assert "not a valid e-mail address" in one_json(bad)["error"]["message"]
    with Outbox() as outbox:
        assert outbox.counts()["lead"] == {"pending": 0, "failed": 0, "sent": 0}


def test_the_lead_records_the_consent_text_version_from_settings(folders: dict[str, str]) -> None:
    config = Path(folders["PHOTOFLUX_CONFIG_DIR"])
    config.mkdir(parents=True)
    (config / "settings.json").write_text(json.dumps({"consent_text_version": "studio-2026.03"}))
    added = one_json(
        photoflux(
            "lead",
            "add",
            "--email",
            "ann@example.org",
            "--consent",
            "--marketing",
            "--json",
            env=folders,
        )
    )
    assert added["consent_text_version"] == "studio-2026.03" and added["marketing"] is True
    with Outbox() as outbox:
        [item] = outbox.due("lead", 10)
    assert item.id == added["id"]
    assert item.body["consent_text_version"] == "studio-2026.03"
    assert item.body["consented_at"] == item.body["marketing_consented_at"]
