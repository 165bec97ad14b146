"""Cloud renders on the embedded queue: the API over loopback HTTP with its in-process
worker thread running the real engine on a tiny random-weight SD pipeline (CPU)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from cloud_api.store import render_jobs
from cloud_api.worker.main import start_embedded_worker
from tests.cloud.live import Api, LiveServer, cloud_settings
from tests.cloud.render_helpers import ROOT, RenderClient, install_tiny_sd, photo_bytes


@pytest.fixture(scope="module")
def tiny_sd(tiny_models: dict[str, Path]) -> Path:
    return tiny_models["sd"]  # the session's tiny pipelines, shared with the engine tests


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = cloud_settings(
        render_attempts=3,
        render_concurrent=50,
        objects_dir=str(tmp_path_factory.mktemp("objects")),
        upload_max_bytes=200_000,
        upload_max_pixels=1_000_000,
    )
    os.environ["PHOTOFLUX_RENDER_RETRY_MIN_MS"] = "50"
    os.environ["PHOTOFLUX_RENDER_RETRY_MAX_MS"] = "200"
    with LiveServer(settings) as server:
        ctx = server.app.state.ctx
        worker = start_embedded_worker(ctx.queue.broker, server.url, ctx.worker_token)
        yield server
        worker.stop(timeout=10_000)
    for name in ("PHOTOFLUX_RENDER_RETRY_MIN_MS", "PHOTOFLUX_RENDER_RETRY_MAX_MS"):
        os.environ.pop(name, None)


@pytest.fixture(scope="module")
def api(live: LiveServer) -> Api:
    return Api(live)


@pytest.fixture(scope="module")
def studio_a(api: Api) -> RenderClient:
    return RenderClient(api.server.url, api.device(api.studio("Studio A")))


@pytest.fixture(scope="module")
def studio_b(api: Api) -> RenderClient:
    return RenderClient(api.server.url, api.device(api.studio("Studio B")))


@pytest.fixture
def models(tiny_sd: Path) -> None:
    install_tiny_sd(tiny_sd, Path(os.environ["PHOTOFLUX_MODELS_DIR"]))


def test_the_api_checks_photos_and_requests_without_loading_torch_or_opencv() -> None:
    code = (
        "import sys\n"
        "from cloud_api.app import create_app\n"
        "from tests.cloud.live import cloud_settings\n"
        "from tests.cloud.render_helpers import photo_bytes, wire\n"
        "from cloud_api.api import render_input\n"
        "create_app(cloud_settings())\n"
        "clean = render_input.clean_upload(photo_bytes(), 10**6, 10**6)\n"
        "render_input.check_request(wire(), clean.png)\n"
        "heavy = [m for m in ('torch', 'diffusers', 'transformers', 'cv2') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_uploads_are_checked_by_intake_and_stored_re_encoded(
    live: LiveServer, studio_a: RenderClient
) -> None:
    text = studio_a.upload(b"hello, this is not a photo at all\n" * 10, "photo.jpg")
    assert text.status_code == 415, text.text
    assert "text file" in text.json()["detail"]
    big = studio_a.upload(b"\xff\xd8\xff" + os.urandom(300_000))
    assert big.status_code == 413
    flat = io.BytesIO()
    Image.new("RGB", (1200, 1000), "teal").save(flat, format="PNG")
    huge = studio_a.upload(flat.getvalue())  # 1.2 MP in a few KB: over the pixel limit
    assert huge.status_code == 422, huge.text
    assert "megapixels" in huge.json()["detail"]
    damaged = studio_a.upload(photo_bytes()[:400])
    assert damaged.status_code == 422

    sent = photo_bytes()
    ok = studio_a.upload(sent)
    assert ok.status_code == 201, ok.text
    body = ok.json()
    assert (body["width"], body["height"]) == (96, 64)
    doc = live.db.render_uploads.find_one({"_id": body["upload_id"]})
    stored = live.app.state.ctx.objects.get(doc["key"])
    assert stored.startswith(b"\x89PNG") and stored != sent  # never the client's bytes


def test_generate_refuses_what_a_worker_could_not_run(
    studio_a: RenderClient, studio_b: RenderClient
) -> None:
    upload = studio_a.upload_id()
    assert studio_a.generate("0" * 32).status_code == 404
    assert studio_b.generate(upload).status_code == 404  # another studio's upload
    steps = studio_a.generate(upload, steps=1000)
    assert steps.status_code == 422
    assert "steps" in steps.json()["detail"]
    assert studio_a.generate(upload, style_id="no-such-style").status_code == 422
    path = studio_a.generate(upload, model="/etc/models/evil")
    assert path.status_code == 422
    assert "catalog" in path.json()["detail"]
    lora = studio_a.generate(upload, loras=[{"path": "/tmp/x.safetensors", "weight": 1.0}])
    assert lora.status_code == 422
    assert studio_a.generate(upload, request_id="short").status_code == 422


@pytest.mark.usefixtures("models")
def test_upload_generate_results_with_previews_and_a_signed_image_url(
    live: LiveServer, studio_a: RenderClient, studio_b: RenderClient
) -> None:
    upload = studio_a.upload_id()
    request_id = uuid.uuid4().hex
    first = studio_a.generate(upload, request_id, steps=4, seed=11)
    assert first.status_code == 202, first.text
    job_id = first.json()["job_id"]
    again = studio_a.generate(upload, request_id, steps=4, seed=11)
    assert again.status_code == 202 and again.json()["job_id"] == job_id  # idempotent

    done = studio_a.wait(job_id)
    assert done["status"] == "succeeded", done
    assert done["seed"] == 11 and done["attempts"] == 1
    assert done["error"] is None and done["checks"]
    preview = studio_a.http.get(done["preview_url"])
    assert preview.status_code == 200 and preview.content.startswith(b"\xff\xd8")

    anonymous = RenderClient(live.url, "no-token")
    anonymous.http.headers.pop("Authorization")
    image = anonymous.http.get(done["image_url"])
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    forged = done["image_url"].replace("sig=", "sig=A")
    assert anonymous.http.get(forged).status_code == 404

    # another studio does not see the job at all
    assert studio_b.http.get(f"/api/results/{job_id}").status_code == 404
    assert studio_b.http.get(f"/api/results/{job_id}/preview").status_code == 404
    assert studio_b.cancel(job_id).status_code == 404
    assert studio_a.http.get(f"/api/results/{job_id}").status_code == 200


@pytest.mark.usefixtures("models")
def test_cancel_stops_a_running_job_within_a_step(studio_a: RenderClient) -> None:
    upload = studio_a.upload_id()
    job_id = studio_a.job(upload, steps=100, strength=1.0)
    running = studio_a.wait(job_id, lambda r: r["status"] == "running" and (r["step"] or 0) >= 1)
    assert running["steps"] == 100
    cancelled = studio_a.cancel(job_id)
    assert cancelled.status_code == 202
    final = studio_a.wait(job_id)
    assert final["status"] == "cancelled"
    assert final["step"] < 100 and final["image_url"] is None


def test_a_queued_job_is_cancelled_at_once(live: LiveServer, studio_b: RenderClient) -> None:
    job = {"_id": "q" * 32, "studio_id": "s", "status": "queued", "message_id": None}
    db = live.db
    db.render_quota.update_one({"_id": "active:s"}, {"$set": {"n": 1}}, upsert=True)
    db.render_jobs.insert_one(job | {"cancel_requested": False, "client_request_id": "x" * 8})
    done = render_jobs.cancel(db, db.render_jobs.find_one({"_id": job["_id"]}), ttl_hours())
    assert done["status"] == "cancelled" and done["expires_at"] is not None
    assert db.render_quota.find_one({"_id": "active:s"})["n"] == 0  # its slot is free again


def ttl_hours():
    from datetime import timedelta

    return timedelta(hours=1)


@pytest.mark.usefixtures("models")
def test_a_poison_job_ends_failed_with_its_reason_after_the_retry_limit(
    studio_a: RenderClient,
) -> None:
    upload = studio_a.upload_id()
    job_id = studio_a.job(upload, model="sdxl-turbo")  # a catalog model no worker has
    final = studio_a.wait(job_id)
    assert final["status"] == "failed"
    assert final["attempts"] == 3
    assert final["error"]["kind"] == "model_missing"
    assert "gave up after 3 attempts" in final["error"]["message"]
    assert "not installed" in final["error"]["message"]
    bad = studio_a.job(upload, model="not-a-catalog-id")  # refused for good, no retry
    failed = studio_a.wait(bad)
    assert (failed["status"], failed["attempts"]) == ("failed", 1)
    assert failed["error"]["kind"] == "bad_input"


def test_render_metrics_are_exported(api: Api) -> None:
    text = api.http.get("/metrics").text
    for name in (
        "photoflux_render_queue_depth",
        "photoflux_render_queue_depth_per_worker",
        "photoflux_render_queue_wait_seconds_bucket",
        "photoflux_render_job_seconds_bucket",
        "photoflux_render_failures_total",
    ):
        assert name in text


def test_quotas_hold_under_a_burst_of_concurrent_requests(tmp_path: Path) -> None:
    settings = cloud_settings(render_concurrent=3, render_daily=5, objects_dir=str(tmp_path))
    with LiveServer(settings) as server:  # no worker: every accepted job stays queued
        api = Api(server)
        client = RenderClient(server.url, api.device(api.studio("Busy Studio")))
        other = RenderClient(server.url, api.device(api.studio("Quiet Studio")))
        upload = client.upload_id()
        answers: list[int] = []

        def ask() -> None:
            answers.append(client.generate(upload).status_code)

        threads = [threading.Thread(target=ask) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(answers) == [202] * 3 + [429] * 9
        refused = client.generate(upload)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        assert other.generate(other.upload_id()).status_code == 202  # per studio

        busy = server.db.render_jobs.find_one({"status": "queued"}, sort=[("created_at", 1)])
        mine = [doc["_id"] for doc in server.db.render_jobs.find({"studio_id": busy["studio_id"]})]
        for job_id in mine[:3]:
            assert client.cancel(job_id).json()["status"] == "cancelled"
        assert client.generate(upload).status_code == 202
        assert client.generate(upload).status_code == 202
        daily = client.generate(upload)  # 5 today, though only 2 are queued
        assert daily.status_code == 429 and "today" in daily.json()["detail"]
