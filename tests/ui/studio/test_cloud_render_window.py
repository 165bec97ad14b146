"""'Render in the cloud' in the main window, against the real cloud app over loopback HTTP
(uvicorn in a thread, the embedded broker and worker thread, a tiny SD pipeline on CPU),
driven through the real Render action."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from photoflux_desktop.engine.request import Stage
from photoflux_desktop.ui import cloud_render
from tests.cloud.live import Api, LiveServer, free_port
from tests.cloud.render_helpers import render_server
from tests.engine.diffusion_fixtures import install_as

WORKER_ENV = {"PHOTOFLUX_RENDER_PREVIEW_INTERVAL_SECONDS": "0"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with render_server(tmp_path_factory.mktemp("objects"), WORKER_ENV) as server:
        yield server


@pytest.fixture(scope="module")
def device_token(live: LiveServer) -> str:
    api = Api(live)
    return api.device(api.studio("Cloud Window Studio"))


@pytest.fixture
def linked(monkeypatch: pytest.MonkeyPatch, live: LiveServer, device_token: str) -> None:
    monkeypatch.setenv("PHOTOFLUX_CLOUD_URL", live.url)
    monkeypatch.setenv("PHOTOFLUX_DEVICE_TOKEN", device_token)
    monkeypatch.setattr(cloud_render, "has_capable_gpu", lambda: False)


def test_without_a_gpu_cloud_rendering_is_on_and_the_render_action_uses_it(
    qtbot, linked, window, live, tiny_models, small_photo, tmp_path
):
    option = window.cloud
    qtbot.waitUntil(option.checkbox.isVisible, timeout=10_000)
    assert option.checkbox.isChecked() and window.actions_by_name["cloud_render"].isChecked()

    install_as(tiny_models["sd"], Path(os.environ["PHOTOFLUX_MODELS_DIR"]), "sd-turbo")
    window._refresh_models()
    small_photo.save(tmp_path / "guest.png")
    window.open_photo(str(tmp_path / "guest.png"))
    window.gallery.select("comic")
    window.params.set_model("sd-turbo")
    window.params.steps.setValue(6)
    window.params.strength.setValue(1.0)
    previews = []
    window.controller.progress.connect(
        lambda e: previews.append(e) if e.stage is Stage.DENOISING and e.preview else None
    )
    with qtbot.waitSignal(window.resultShown, timeout=90_000) as shown:
        window.actions_by_name["render"].trigger()
    result = shown.args[0]

    assert "Rendered in the studio's cloud." in result.notes
    job = live.db.render_jobs.find_one({"_id": result.report["cloud_job_id"]})
    assert job["status"] == "succeeded" and job["request"]["style_id"] == "comic"
    assert previews  # the worker's step previews reached the compare view's signal
    assert window.result_image is not None and window.result is result
    entry = window.current_entry
    assert entry is not None and entry.id in window.history.entry_ids()
    assert entry.source_name == "guest.png" and entry.backend == "diffusion"


def test_with_a_gpu_the_option_is_offered_but_off_and_instant_looks_stay_local(
    qtbot, monkeypatch, live, device_token, window
):
    assert not window.cloud.checkbox.isVisible()  # no studio connected: not offered
    monkeypatch.setattr(cloud_render, "has_capable_gpu", lambda: True)
    monkeypatch.setenv("PHOTOFLUX_CLOUD_URL", live.url)
    monkeypatch.setenv("PHOTOFLUX_DEVICE_TOKEN", device_token)
    window.studio.sync.reload_link()
    window.studio.sync.refresh()
    assert window.cloud.checkbox.isVisible() and not window.cloud.checkbox.isChecked()
    window.cloud.checkbox.click()  # the user's choice
    assert window.cloud.enabled and window.actions_by_name["cloud_render"].isChecked()
    from photoflux_desktop.engine.request import RenderRequest

    photo = window.compare.grab().toImage()  # any picture
    from photoflux_desktop.ui.images import qimage_to_pil

    image = qimage_to_pil(photo).convert("RGB").resize((64, 64))
    assert not window.cloud.use_cloud(RenderRequest(image=image, style_id="comic", model="instant"))
    # an Instant tile with the automatic model is an instant look: it stays here too
    assert not window.cloud.use_cloud(RenderRequest(image=image, style_id="comic"))
    assert window.cloud.use_cloud(RenderRequest(image=image, style_id="anime"))


def test_offline_the_render_waits_and_lands_in_the_gallery_once_the_studio_is_back(
    qtbot, monkeypatch, live, device_token, window, small_photo, tmp_path
):
    monkeypatch.setattr(cloud_render, "has_capable_gpu", lambda: False)
    monkeypatch.setenv("PHOTOFLUX_CLOUD_URL", f"http://127.0.0.1:{free_port()}")  # nobody there
    monkeypatch.setenv("PHOTOFLUX_DEVICE_TOKEN", device_token)
    window.studio.sync.reload_link()
    window.studio.sync.refresh()
    assert window.cloud.checkbox.isChecked()
    small_photo.save(tmp_path / "offline-guest.png")
    window.open_photo(str(tmp_path / "offline-guest.png"))
    window.gallery.select("anime")  # no model on the worker: it runs the instant version
    with qtbot.waitSignal(window.controller.idle, timeout=30_000):
        window.actions_by_name["render"].trigger()
    assert "queued" in window.banner.text.text()
    assert window.progress.status_text().startswith("Queued for the studio's cloud")
    assert window.cloud.waiting() == 1 and window.library.entries() == []

    monkeypatch.setenv("PHOTOFLUX_CLOUD_URL", live.url)  # the link is back
    window.studio.sync.reload_link()

    def arrived() -> bool:
        window.cloud.submit_queued()  # what the retry timer and going online do
        return window.cloud.waiting() == 0

    qtbot.waitUntil(arrived, timeout=60_000)
    (entry,) = window.library.entries()
    qtbot.waitUntil(lambda: entry.id in window.history.entry_ids(), timeout=10_000)
    assert entry.source_name == "offline-guest.png"
    assert "gallery" in window.progress.status_text()
