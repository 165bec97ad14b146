"""`photoflux sync` without --once keeps sending what arrives until Ctrl-C, which ends
it cleanly: exit 0, one JSON summary, no traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from photoflux_desktop.sync.events import event_body
from photoflux_desktop.sync.outbox import Outbox
from tests.cloud.live import Api, LiveServer
from tests.sync.conftest import REPO, linked, photoflux


def test_the_loop_sends_new_items_and_ctrl_c_ends_it_cleanly(
    folders: dict[str, str], server: LiveServer, api: Api
) -> None:
    studio = api.studio("Loop Studio")
    env = linked(server.url, api.device(studio), folders)
    photoflux("lead", "add", "--email", "loop@example.org", "--consent", env=env)
    process = subprocess.Popen(
        [sys.executable, "-m", "photoflux_desktop", "sync", "--interval", "1", "--json"],
        env=os.environ | env | {"PYTHONPATH": str(REPO)},
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while server.db.leads.count_documents({"studio_id": studio}) < 1:
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        with Outbox() as outbox:  # queued while the loop runs: the next pass sends it
            outbox.add_events(event_body("app_opened", "s-loop") for _ in range(3))
            # wait for the outbox, not the server: stored there is not yet acknowledged here
            while outbox.counts()["event"]["sent"] < 3:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "Traceback" not in err
    summary = json.loads(out)
    assert summary["ok"] is True
    assert summary["pending"] == {"lead": 0, "event": 0, "delivery": 0, "share": 0}
    assert summary["sent"] == {"lead": 1, "event": 3, "delivery": 0, "share": 0}
    assert server.db.events.count_documents({"studio_id": studio}) == 3
