"""The OpenVINO CPU path on the tiny SD and SDXL pipelines: export once (reused from
disk by a fresh renderer), render with previews, cancel within a step and during the
export, match PyTorch for the same seed, refuse a model that cannot be exported.

Tolerance against PyTorch (same seed, same scheduler loop, float32 on both sides):
mean absolute pixel difference <= 1.0 and max <= 16 of 255 (measured: 0.0 / 1).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("openvino")
pytest.importorskip("nncf")

from photoflux_desktop.engine.diffusion.renderer import DiffusionRenderer
from photoflux_desktop.engine.errors import PhotoFluxError
from photoflux_desktop.engine.local_renderer import LocalRenderer
from photoflux_desktop.engine.model_store import locate
from photoflux_desktop.engine.openvino.choice import decide_backend
from photoflux_desktop.engine.openvino.renderer import OpenVinoRenderer
from photoflux_desktop.engine.presets import get_preset
from photoflux_desktop.engine.request import (
    CancelToken,
    ProgressEvent,
    RenderRequest,
    Stage,
    Status,
)


def _request(photo, model: Path, **overrides) -> RenderRequest:
    base = {
        "image": photo,
        "style_id": "comic",
        "model": str(model),
        "seed": 7,
        "steps": 2,
        "strength": 0.75,
        "max_side": 64,
        "backend": "openvino",
    }
    return RenderRequest(**{**base, **overrides})


def _render(renderer, request, events=None, cancel=None):
    sink = events.append if events is not None else (lambda event: None)
    return renderer.render(request, get_preset("comic"), locate(request.model), sink, cancel)


def _close(a, b) -> None:
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert x.shape == y.shape
    assert np.abs(x - y).mean() <= 1.0 and np.abs(x - y).max() <= 16


@pytest.fixture(scope="module")
def exported(tiny_models, tmp_path_factory):
    """A copy of the tiny SD model, exported once by a first render (events kept)."""
    from PIL import Image

    from tests.conftest import DATA

    folder = tmp_path_factory.mktemp("ov") / "sd"
    shutil.copytree(tiny_models["sd"], folder)
    with Image.open(DATA / "astronaut.png") as im:
        photo = im.convert("RGB").resize((96, 64), Image.LANCZOS)
    renderer, events = OpenVinoRenderer(threads=1), []
    result = _render(renderer, _request(photo, folder), events)
    return folder, photo, renderer, result, events


def test_first_render_exports_with_progress_then_denoises_with_previews(exported):
    folder, photo, renderer, result, events = exported
    assert result.status is Status.COMPLETED and result.image.size == photo.size
    assert renderer.exports == 1
    assert list(folder.glob(".openvino/fp32-*/unet.xml"))  # next to the model, in its folder
    messages = [event.message for event in events if event.stage is Stage.WARMUP]
    assert any("Converting the unet" in text for text in messages)
    previews = [e for e in events if e.stage is Stage.DENOISING]
    assert [e.step for e in previews] == [1] and previews[0].preview is not None
    assert {"openvino_export", "openvino_compile", "denoise", "decode"} <= set(result.timings)
    assert result.report["openvino"]["weights"] == "fp32"
    assert result.parameters.backend == "diffusion" and result.ai_generated


def test_auto_on_cpu_reuses_the_export_and_matches_pytorch(exported, monkeypatch):
    folder, photo, _, first, _ = exported
    monkeypatch.delenv("PHOTOFLUX_BACKEND")  # auto: this CPU-only machine picks OpenVINO
    local = LocalRenderer(openvino_threads=1)
    again = local.render(_request(photo, folder, backend="auto"))
    assert again.report["compute_backend"]["backend"] == "openvino"
    assert "no GPU" in again.report["compute_backend"]["reason"]
    assert local.openvino.exports == 0  # a fresh renderer found the IR on disk
    assert "openvino_export" not in again.timings and again.report["openvino"]["threads"] == 1
    assert np.array_equal(np.asarray(again.image), np.asarray(first.image))
    torch_result = _render(DiffusionRenderer(), _request(photo, folder, backend="torch"))
    _close(first.image, torch_result.image)


def test_cancel_within_one_step(exported):
    folder, photo, renderer, _, _ = exported
    cancel, events = CancelToken(), []

    def sink(event: ProgressEvent) -> None:
        events.append(event)
        if event.stage is Stage.DENOISING:
            cancel.cancel()

    result = renderer.render(
        _request(photo, folder, steps=4, strength=1.0),
        get_preset("comic"),
        locate(str(folder)),
        sink,
        cancel,
    )
    assert result.status is Status.CANCELLED and result.image is None
    assert result.parameters.steps_run == 2  # of 4: the step in flight when cancelled, no more
    assert not any(e.stage is Stage.DECODING for e in events)


@pytest.fixture
def compiled_parts(monkeypatch) -> list[set[str]]:
    """The parts compiled for each new size during a test."""
    from photoflux_desktop.engine.openvino.runtime import OpenVinoParts

    compiled: list[set[str]] = []
    real = OpenVinoParts.compile_for

    def recording(self, shapes):
        compiled.append(set(shapes))
        return real(self, shapes)

    monkeypatch.setattr(OpenVinoParts, "compile_for", recording)
    return compiled


def test_text_to_image_on_openvino_matches_pytorch_and_encodes_no_photo(exported, compiled_parts):
    folder, _, renderer, _, _ = exported
    ask = {"image": None, "prompt": "a cat", "width": 64, "height": 96, "max_side": 96}
    ask["strength"] = None
    result = _render(renderer, _request(None, folder, **ask))
    assert result.status is Status.COMPLETED and result.image.size == (64, 96)
    assert result.parameters.mode == "text-to-image" and "openvino" in result.report
    assert compiled_parts == [{"unet", "vae_decoder"}]  # no photo: the encoder is not needed
    torch_result = _render(DiffusionRenderer(), _request(None, folder, backend="torch", **ask))
    _close(result.image, torch_result.image)


def test_the_fast_autoencoder_replaces_the_vae_ir(exported, tiny_models, compiled_parts):
    from tests.engine.diffusion_fixtures import install_as

    folder, photo, renderer, _, _ = exported
    install_as(tiny_models["taesd"], Path(os.environ["PHOTOFLUX_MODELS_DIR"]), "taesd")
    result = _render(renderer, _request(photo.resize((64, 64)), folder, fast_vae=True))
    assert result.status is Status.COMPLETED and result.parameters.autoencoder == "tiny"
    assert compiled_parts == [{"unet"}]  # a new size, and only the UNet compiled for it


def test_cancel_during_export_leaves_nothing_half_written(tiny_models, small_photo, tmp_path):
    folder = tmp_path / "sd"
    shutil.copytree(tiny_models["sd"], folder)
    cancel = CancelToken()

    def sink(event: ProgressEvent) -> None:
        if event.stage is Stage.WARMUP:
            cancel.cancel()

    renderer = OpenVinoRenderer(threads=1)
    result = renderer.render(
        _request(small_photo, folder), get_preset("comic"), locate(str(folder)), sink, cancel
    )
    assert result.status is Status.CANCELLED and renderer.exports == 0
    assert not list((folder / ".openvino").glob("*"))


def test_a_model_that_cannot_be_exported_is_a_clear_error(
    tiny_models, small_photo, tmp_path, monkeypatch
):
    import openvino

    def refuse(*args, **kwargs):
        raise RuntimeError("Unsupported operation aten::weird")

    monkeypatch.setattr(openvino, "convert_model", refuse)
    folder = tmp_path / "my-model"
    shutil.copytree(tiny_models["sd"], folder)
    with pytest.raises(PhotoFluxError) as caught:
        _render(OpenVinoRenderer(threads=1), _request(small_photo, folder))
    error = caught.value.error
    assert "my-model" in error.message and "OpenVINO" in error.message
    assert "aten::weird" in error.message and "--backend torch" in error.hint
    assert not list((folder / ".openvino").glob("*"))


def test_sdxl_renders_on_openvino_close_to_pytorch(tiny_models, small_photo, tmp_path):
    folder = tmp_path / "sdxl"
    shutil.copytree(tiny_models["sdxl"], folder)
    events: list[ProgressEvent] = []
    result = _render(OpenVinoRenderer(threads=1), _request(small_photo, folder), events)
    assert result.status is Status.COMPLETED and result.parameters.family == "sdxl"
    assert any(e.stage is Stage.DENOISING and e.preview is not None for e in events)
    torch_result = _render(DiffusionRenderer(), _request(small_photo, folder, backend="torch"))
    _close(result.image, torch_result.image)


@pytest.mark.parametrize(
    ("requested", "device", "family", "extra", "backend", "why"),
    [
        ("auto", "cpu", "sd", {}, "openvino", "no GPU"),
        ("auto", "cpu", "flux", {}, "torch", "FLUX"),
        ("auto", "cpu", "sdxl", {"loras": True}, "torch", "LoRA"),
        ("auto", "cuda", "sd", {}, "torch", "cuda GPU"),
        ("torch", "cpu", "sd", {}, "torch", "asked"),
    ],
)
def test_automatic_choice(monkeypatch, requested, device, family, extra, backend, why):
    monkeypatch.delenv("PHOTOFLUX_BACKEND")
    decision = decide_backend(requested, device, family, **extra)
    assert decision.backend == backend and why in decision.reason


def test_auto_follows_the_environment_then_the_setting(monkeypatch):
    from photoflux_desktop.engine.openvino.choice import requested_backend

    monkeypatch.delenv("PHOTOFLUX_BACKEND")
    assert requested_backend("auto", "torch") == "torch"  # the setting
    assert requested_backend("openvino", "torch") == "openvino"  # --backend wins
    monkeypatch.setenv("PHOTOFLUX_BACKEND", "openvino")
    assert requested_backend("auto", "torch") == "openvino"


def test_forcing_openvino_on_flux_is_refused_with_the_reason():
    with pytest.raises(PhotoFluxError) as caught:
        decide_backend("openvino", "cpu", "flux")
    assert caught.value.error.kind.value == "bad_input" and "FLUX" in caught.value.error.message


def test_two_processes_exporting_one_model_never_break_each_others_export(tmp_path):
    """Two render workers on one models folder: the second to finish keeps the first's
    complete export instead of deleting it under the first's feet."""
    from photoflux_desktop.engine.openvino.export import PARTS, _publish, is_exported

    def export_into(folder, text):
        folder.mkdir(parents=True)
        for part in PARTS:
            (folder / f"{part}.xml").write_text(text)
        return folder

    final = tmp_path / "fp32-key"
    _publish(export_into(tmp_path / "fp32-key.partial-1", "first"), final)
    _publish(export_into(tmp_path / "fp32-key.partial-2", "second"), final)
    assert is_exported(final) and (final / "unet.xml").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fp32-key"]
    # an incomplete leftover of a crash is replaced
    (final / "unet.xml").unlink()
    _publish(export_into(tmp_path / "fp32-key.partial-3", "third"), final)
    assert (final / "unet.xml").read_text() == "third"
