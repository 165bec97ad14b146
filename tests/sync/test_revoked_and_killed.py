"""A revoked device stops sending and keeps its outbox; a `photoflux sync` killed with
SIGKILL in the middle of a batch loses nothing and duplicates nothing on the server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from photoflux_desktop.sync.events import event_body
from photoflux_desktop.sync.outbox import Outbox
from tests.cloud.live import Api, LiveServer
from tests.sync.conftest import REPO, linked, one_json, photoflux


def _device(api: Api, studio: str) -> tuple[str, str]:
    answer = api.http.post(
        f"/api/studios/{studio}/devices", json={"name": "booth"}, headers=api.admin()
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["id"], answer.json()["device_token"]


def test_a_revoked_token_stops_sending_and_keeps_the_outbox(
    folders: dict[str, str], server: LiveServer, api: Api, studio: str
) -> None:
    device_id, token = _device(api, studio)
    env = linked(server.url, token, folders)
    first = photoflux("lead", "add", "--email", "first@example.org", "--consent", env=env)
    assert first.returncode == 0
    assert one_json(photoflux("sync", "--once", "--json", env=env))["sent_now"]["lead"] == 1

    revoked = api.http.delete(f"/api/studios/{studio}/devices/{device_id}", headers=api.admin())
    assert revoked.status_code == 204
    photoflux("lead", "add", "--email", "second@example.org", "--consent", env=env)
    with Outbox() as outbox:
        outbox.add_events(event_body("app_opened", "s-2") for _ in range(10))

    refused = photoflux("sync", "--once", "--json", env=env)
    assert refused.returncode == 5
    error = one_json(refused)["error"]
    assert "refused this device's token" in error["message"]
    assert error["details"]["pending"] == {"lead": 1, "event": 10, "delivery": 0, "share": 0}
    assert error["details"]["failed"] == {"lead": 0, "event": 0, "delivery": 0, "share": 0}
    doctor = one_json(photoflux("doctor", "--json", env=env))["sync"]
    assert "refused this device's token" in doctor["last_error"]
    assert doctor["pending"]["lead"] == 1

    # a new token for the same studio sends what waited
    _, fresh = _device(api, studio)
    again = linked(server.url, fresh, folders)
    resumed = one_json(photoflux("sync", "--once", "--json", env=again))
    assert resumed["sent_now"] == {"lead": 1, "event": 10, "delivery": 0, "share": 0}


def test_sigkill_mid_batch_loses_and_duplicates_nothing(
    folders: dict[str, str], server: LiveServer, api: Api
) -> None:
    studio = api.studio("Kill Test Studio")
    env = linked(server.url, api.device(studio), folders)
    total = 5_000
    with Outbox() as outbox:
        ids = outbox.add_events(
            event_body("render_finished", "s-k", style="comic", steps=n % 8) for n in range(total)
        )

    def stored() -> int:
        return server.db.events.count_documents({"studio_id": studio})

    process = subprocess.Popen(
        [sys.executable, "-m", "photoflux_desktop", "sync", "--once", "--json"],
        env=os.environ | env | {"PYTHONPATH": str(REPO)},
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while stored() < 500 and process.poll() is None:  # the first batch is on the server
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    at_kill = stored()
    assert process.returncode == -signal.SIGKILL
    assert 500 <= at_kill < total, "the kill must land in the middle of the drain"

    with Outbox() as outbox:  # intact after the kill: only acknowledged events left it
        assert outbox._db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert total - at_kill <= outbox.counts()["event"]["pending"] <= total

    rerun = photoflux("sync", "--once", "--json", env=env)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert one_json(rerun)["pending"]["event"] == 0
    docs = list(server.db.events.find({"studio_id": studio}, {"_id": 1}))
    assert len(docs) == total  # nothing duplicated (ids are unique per studio) ...
    assert {doc["_id"].split(":", 1)[1] for doc in docs} == set(ids)  # ... nothing lost
