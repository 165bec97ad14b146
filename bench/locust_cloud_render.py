"""Locust users for bench/cloud_render_load.py: each is a studio device that uploads a
photo, asks for a render and polls its results to the end, recording queue wait and
end-to-end latency per job. Run by that script (headless, bounded in time), not alone.

Environment (set by the script): PF_TOKEN_A / PF_TOKEN_B (device tokens of two studios),
PF_SHARE_A (the fraction of users in studio A), PF_MODEL, PF_RECORDS (where the per-job
records go as JSON when Locust quits)."""

from __future__ import annotations

import io
import itertools
import json
import os
import time
import uuid
from datetime import datetime
from typing import Any

import gevent
from locust import HttpUser, constant, events, task
from PIL import Image

RECORDS: list[dict[str, Any]] = []
_numbers = itertools.count()
_FINAL = ("succeeded", "failed", "cancelled")


def _photo() -> bytes:
    image = Image.linear_gradient("L").resize((96, 64)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


PHOTO = _photo()


def _wire(model: str) -> dict[str, Any]:
    return {
        "version": 1,
        "style_id": "comic",
        "prompt": "",
        "model": model,
        "steps": 2,
        "strength": 0.75,
        "seed": 7,
        "max_side": 64,
        "likeness": "none",
        "loras": [],
        "device": "cpu",
        "memory": "auto",
        "quantize": "none",
        "compile": False,
        "previews": False,
    }


def _seconds(later: str | None, earlier: str | None) -> float | None:
    if not later or not earlier:
        return None
    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds()


class StudioDevice(HttpUser):
    wait_time = constant(0.5)  # a guest between two renders at a kiosk

    def on_start(self) -> None:
        number = next(_numbers)
        share_a = float(os.environ.get("PF_SHARE_A", "0.8"))
        # every 10 users, the first share_a*10 belong to studio A: both studios start together
        self.studio = "A" if (number % 10) < round(share_a * 10) else "B"
        token = os.environ[f"PF_TOKEN_{self.studio}"]
        self.client.headers["Authorization"] = f"Bearer {token}"
        self.model = os.environ.get("PF_MODEL", "instant")

    def _record(self, started: float, outcome: str, result: dict[str, Any] | None) -> None:
        result = result or {}
        RECORDS.append(
            {
                "studio": self.studio,
                "outcome": outcome,
                "end_to_end_s": time.perf_counter() - started,
                "queue_wait_s": _seconds(result.get("started_at"), result.get("created_at")),
                "attempts": result.get("attempts"),
                "finished_at": time.time(),
            }
        )

    @task
    def render(self) -> None:
        started = time.perf_counter()
        upload = self.client.post("/api/upload", files={"file": ("photo.jpg", PHOTO)})
        if upload.status_code != 201:
            self._record(started, f"upload_{upload.status_code}", None)
            return
        body = {
            "client_request_id": uuid.uuid4().hex,
            "upload_id": upload.json()["upload_id"],
            "request": _wire(self.model),
        }
        generate = self.client.post("/api/generate", json=body)
        if generate.status_code != 202:
            self._record(started, f"generate_{generate.status_code}", None)
            return
        job_id = generate.json()["job_id"]
        while True:
            response = self.client.get(f"/api/results/{job_id}", name="/api/results/[id]")
            if response.status_code != 200:
                self._record(started, f"results_{response.status_code}", None)
                return
            result = response.json()
            if result["status"] in _FINAL:
                self._record(started, result["status"], result)
                return
            gevent.sleep(0.05)


@events.quitting.add_listener
def _write_records(environment: Any, **_kwargs: Any) -> None:
    path = os.environ.get("PF_RECORDS")
    if path:
        with open(path, "w") as handle:
            json.dump(RECORDS, handle)
