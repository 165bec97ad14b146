"""The desktop's cloud renderer against the real cloud app over loopback HTTP: uvicorn in
a thread, the embedded in-process broker and worker thread, the real engine on a tiny
random-weight SD pipeline (CPU)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from photoflux_desktop.engine.errors import ErrorKind, PhotoFluxError
from photoflux_desktop.engine.library import Library
from photoflux_desktop.engine.request import CancelToken, RenderRequest, Stage, Status
from photoflux_desktop.sync.client import RetryPolicy
from photoflux_desktop.sync.cloud_queue import CloudRenderQueue
from photoflux_desktop.sync.cloud_renderer import CloudRenderer, submit_waiting
from photoflux_desktop.sync.link import CloudLink
from tests.cloud.live import Api, LiveServer, free_port
from tests.cloud.render_helpers import install_tiny_sd, render_server

QUICK = RetryPolicy(attempts=1, timeout_s=5.0)
WORKER_ENV = {
    "PHOTOFLUX_RENDER_PREVIEW_INTERVAL_SECONDS": "0",  # a preview at every step
    "PHOTOFLUX_RENDER_RETRY_MIN_MS": "50",
    "PHOTOFLUX_RENDER_RETRY_MAX_MS": "200",
}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    objects = tmp_path_factory.mktemp("objects")
    with render_server(objects, WORKER_ENV, render_concurrent=50) as server:
        yield server


@pytest.fixture(scope="module")
def device(live: LiveServer) -> CloudLink:
    api = Api(live)
    return CloudLink(live.url, api.device(api.studio("Cloud Desk")), "environment")


@pytest.fixture
def models(tiny_models: dict[str, Path]) -> None:
    install_tiny_sd(tiny_models["sd"], Path(os.environ["PHOTOFLUX_MODELS_DIR"]))


def photo_request(photo: Image.Image, **fields: object) -> RenderRequest:
    values = {"steps": 4, "strength": 0.75, "seed": 7, "max_side": 64, "device": "cpu"}
    return RenderRequest(image=photo, style_id="comic", **(values | fields))


def test_a_cloud_render_streams_previews_and_returns_one_result_shape(
    live: LiveServer, device: CloudLink, models: None, small_photo: Image.Image
) -> None:
    events = []
    renderer = CloudRenderer(lambda: device, poll_s=0.01)
    result = renderer.render(photo_request(small_photo, steps=6), events.append)

    assert result.status is Status.COMPLETED
    assert result.image is not None and result.image.size == small_photo.size
    assert result.backend == "diffusion" and result.model == "sd-turbo"  # what ran there
    assert result.seed == 7 and result.parameters.style == "comic"
    previews = [e for e in events if e.stage is Stage.DENOISING and e.preview is not None]
    steps = [e.step for e in previews]
    assert previews and steps == sorted(set(steps)) and all(e.total for e in previews)
    job = live.db.render_jobs.find_one({"_id": result.report["cloud_job_id"]})
    assert job["status"] == "succeeded"
    assert job["request"]["device"] == "auto"  # the worker picks its own hardware
    assert list(result.checks) == job["checks"] and result.checks


def test_cancel_stops_the_cloud_job(
    live: LiveServer, device: CloudLink, models: None, small_photo: Image.Image
) -> None:
    cancel = CancelToken()

    def on_progress(event: object) -> None:
        if getattr(event, "stage", None) is Stage.DENOISING:
            cancel.cancel()

    renderer = CloudRenderer(lambda: device, poll_s=0.01)
    request = photo_request(small_photo, steps=100, strength=1.0)
    result = renderer.render(request, on_progress, cancel)

    assert result.status is Status.CANCELLED and result.image is None
    deadline = time.monotonic() + 30
    while (job := live.db.render_jobs.find_one({"steps": 100}))["status"] != "cancelled":
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    assert job["step"] < 100  # stopped within a step, not run to the end


def test_offline_render_is_queued_on_disk_and_filed_once_the_studio_is_back(
    live: LiveServer, device: CloudLink, small_photo: Image.Image, tmp_path: Path
) -> None:
    # the instant style: this is about the queue, and it needs no model on the worker
    path = tmp_path / "outbox.sqlite3"
    offline = CloudLink(f"http://127.0.0.1:{free_port()}", device.token, "environment")
    queue = CloudRenderQueue(path)
    renderer = CloudRenderer(
        lambda: offline, queue=lambda: queue, source_name=lambda: "guest.jpg", policy=QUICK
    )
    with pytest.raises(PhotoFluxError) as queued:
        renderer.render(photo_request(small_photo, model="instant"))
    assert queued.value.error.kind is ErrorKind.CLOUD
    request_id = queued.value.error.details["queued"]
    assert queue.count_waiting() == 1
    queue.close()

    queue = CloudRenderQueue(path)  # the app restarted meanwhile: still there
    library = Library(tmp_path / "library")
    deadline = time.monotonic() + 60
    while not (report := submit_waiting(queue, device, library, QUICK)).entries:
        assert report.error is None and not report.failed, report
        assert time.monotonic() < deadline, report
        time.sleep(0.05)

    (entry,) = report.entries
    assert report.waiting == 0
    assert [e.id for e in library.entries()] == [entry.id]
    assert entry.source_name == "guest.jpg" and entry.backend == "instant"  # what ran there
    assert queue.state(request_id)["state"] == "done"
    assert queue.state(request_id)["entry_id"] == entry.id
    assert submit_waiting(queue, device, library, QUICK).entries == []  # filed once
    jobs = live.db.render_jobs.count_documents({"client_request_id": request_id})
    assert jobs == 1
    queue.close()
