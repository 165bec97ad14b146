"""OpenVINO's 8-bit modes on the tiny SD and SDXL pipelines: `int8` compresses the UNet's
weights, `w8a8` quantizes weights and activations of every part after calibrating on the
bundled sample pictures. Each mode has its own cached export; w8a8 is refused, with what
to do, wherever torch would run it.

Tolerance against OpenVINO float32 (same seed): int8 mean absolute pixel difference <= 1
of 255 (measured 0.23); w8a8 <= 10 (measured 3.6; tiny random weights have no typical
activation ranges, so this only shows the image is the same picture, not a quality
figure: bench/cpu_backends.py reports the full-size difference).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("openvino")
pytest.importorskip("nncf")

from photoflux_desktop.engine.errors import PhotoFluxError
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


def _mean_abs(a, b) -> float:
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert x.shape == y.shape
    return float(np.abs(x - y).mean())


def _ops(xml: Path) -> str:
    return xml.read_text()


@pytest.fixture(scope="module")
def sd_copy(tiny_models, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ovq") / "sd"
    shutil.copytree(tiny_models["sd"], folder)
    return folder


def test_w8a8_calibrates_quantizes_every_part_and_stays_the_same_picture(sd_copy, small_photo):
    renderer, events = OpenVinoRenderer(threads=1), []
    fp32 = _render(renderer, _request(small_photo, sd_copy))
    quantized = _render(renderer, _request(small_photo, sd_copy, quantize="w8a8"), events)
    assert quantized.status is Status.COMPLETED and quantized.image.size == small_photo.size
    assert quantized.report["openvino"]["weights"] == "w8a8" and renderer.exports == 2
    messages = [e.message for e in events if e.stage is Stage.WARMUP]
    assert sum("sample picture" in text for text in messages) == 3  # calibration, shown
    assert any("Quantizing the vae decoder" in text for text in messages)
    (folder,) = sd_copy.glob(".openvino/w8a8-*")
    for part in ("unet", "vae_encoder", "vae_decoder"):  # activations quantized in each
        assert "FakeQuantize" in _ops(folder / f"{part}.xml"), part
    assert "FakeQuantize" not in _ops(next(sd_copy.glob(".openvino/fp32-*")) / "unet.xml")
    assert 0 < _mean_abs(quantized.image, fp32.image) <= 10
    # the export is cached per mode: a fresh renderer exports nothing
    again = OpenVinoRenderer(threads=1)
    repeat = _render(again, _request(small_photo, sd_copy, quantize="w8a8"))
    assert again.exports == 0 and np.array_equal(np.asarray(repeat.image), quantized.image)


def test_int8_compresses_only_the_unet_weights(sd_copy, small_photo):
    renderer = OpenVinoRenderer(threads=1)
    fp32 = _render(renderer, _request(small_photo, sd_copy))
    int8 = _render(renderer, _request(small_photo, sd_copy, quantize="int8"))
    assert int8.report["openvino"]["weights"] == "int8"
    (folder,) = sd_copy.glob(".openvino/int8-*")
    unet = _ops(folder / "unet.xml")
    assert 'element_type="u8"' in unet and "FakeQuantize" not in unet
    assert 'element_type="u8"' not in _ops(folder / "vae_decoder.xml")
    assert _mean_abs(int8.image, fp32.image) <= 1


def test_w8a8_on_sdxl_records_its_extra_unet_inputs(tiny_models, small_photo, tmp_path):
    from photoflux_desktop.engine.devices import MemoryPlan, detect_device
    from photoflux_desktop.engine.diffusion.loader import load_pipeline
    from photoflux_desktop.engine.openvino.calibrate import CalibrationCancelled, collect_samples

    folder = tmp_path / "sdxl"
    shutil.copytree(tiny_models["sdxl"], folder)
    pipe = load_pipeline(locate(str(folder)), detect_device("cpu"), MemoryPlan.FULL)
    said: list[str] = []
    samples = collect_samples(pipe, 64, CancelToken(), said.append)
    # 3 pictures × 3 denoising steps (strength 0.75 of 4); each UNet call records
    # sample, timestep, text, pooled text and time ids
    assert len(samples["unet"]) == 9 and {len(s) for s in samples["unet"]} == {5}
    assert len(samples["vae_encoder"]) == 3 and len(samples["vae_decoder"]) == 3
    assert samples["vae_encoder"][0][0].shape == (1, 3, 64, 64) and len(said) == 3
    # cancel within one step of a calibration render: the step in flight ends, no more
    cancel = CancelToken()
    pipe.unet.register_forward_hook(lambda *args: cancel.cancel())
    with pytest.raises(CalibrationCancelled):
        collect_samples(pipe, 64, cancel, said.append)
    assert not pipe.vae.encoder._forward_pre_hooks  # calibration's hooks are gone
    result = _render(OpenVinoRenderer(threads=1), _request(small_photo, folder, quantize="w8a8"))
    assert result.status is Status.COMPLETED and result.report["openvino"]["weights"] == "w8a8"


def test_cancel_during_calibration_leaves_nothing(tiny_models, small_photo, tmp_path):
    folder = tmp_path / "sd"
    shutil.copytree(tiny_models["sd"], folder)
    cancel, said = CancelToken(), []

    def sink(event: ProgressEvent) -> None:
        said.append(event.message or "")
        if "sample picture 2" in (event.message or ""):
            cancel.cancel()

    renderer = OpenVinoRenderer(threads=1)
    result = renderer.render(
        _request(small_photo, folder, quantize="w8a8"),
        get_preset("comic"),
        locate(str(folder)),
        sink,
        cancel,
    )
    assert result.status is Status.CANCELLED and renderer.exports == 0
    assert not list((folder / ".openvino").glob("*"))
    assert not any("sample picture 3" in text or "Converting" in text for text in said)


@pytest.mark.parametrize(
    ("requested", "device", "extra", "why"),
    [
        ("torch", "cpu", {}, "torch backend was asked for"),
        ("auto", "cuda", {}, "cuda GPU"),
        ("auto", "cpu", {"loras": True}, "LoRA"),
    ],
)
def test_w8a8_where_torch_would_run_is_refused_with_what_to_do(
    monkeypatch, requested, device, extra, why
):
    monkeypatch.delenv("PHOTOFLUX_BACKEND")
    with pytest.raises(PhotoFluxError) as caught:
        decide_backend(requested, device, "sd", quantize="w8a8", **extra)
    error = caught.value.error
    assert error.kind.value == "bad_input" and why in error.message
    assert "OpenVINO backend only" in error.message and "--quantize int8" in error.hint
    assert decide_backend("auto", "cpu", "sd", quantize="w8a8").backend == "openvino"


def test_a_min_likeness_retry_of_w8a8_stays_on_openvino(monkeypatch, small_photo):
    """A retry that switched to edge control would move the render to torch, which
    refuses w8a8 and would lose the finished first try: w8a8 only lowers the strength."""
    from types import SimpleNamespace

    from photoflux_desktop.engine import likeness

    monkeypatch.setattr(likeness, "structure_mode_installed", lambda *a: likeness.Likeness.CANNY)
    ran = SimpleNamespace(strength=0.6, seed=3, likeness_scale=None)
    ask = {"image": small_photo, "style_id": "comic", "min_likeness": 0.6}
    on_int8 = likeness.stronger_likeness(RenderRequest(**ask, quantize="int8"), ran, "sd")
    assert on_int8.likeness is likeness.Likeness.CANNY
    on_w8a8 = likeness.stronger_likeness(RenderRequest(**ask, quantize="w8a8"), ran, "sd")
    assert on_w8a8.likeness is likeness.Likeness.NONE and on_w8a8.strength == 0.45
    assert on_w8a8.quantize.value == "w8a8" and on_w8a8.seed == 3


def test_torch_renderer_refuses_w8a8_by_name():
    from photoflux_desktop.engine.diffusion.quantize import quantize_pipeline

    with pytest.raises(PhotoFluxError) as caught:
        quantize_pipeline(object(), "w8a8")
    assert "OpenVINO backend only" in caught.value.error.message


@pytest.mark.parametrize("mode", ["int8", "w8a8"])
def test_cli_json_stays_one_json_document_while_nncf_works(mode, tiny_models, tmp_path):
    """NNCF prints tables and progress bars on stdout; `render --json` must stay parseable."""
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import DATA

    folder = tmp_path / "sd"
    shutil.copytree(tiny_models["sd"], folder)
    out = tmp_path / "out.jpg"
    argv = [sys.executable, "-m", "photoflux_desktop", "render", str(DATA / "astronaut.png")]
    argv += ["-o", str(out), "--model", str(folder), "--backend", "openvino"]
    argv += ["--quantize", mode, "--steps", "2", "--max-side", "64", "--json"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=os.environ)
    assert done.returncode == 0, done.stderr[-2000:]
    payload = json.loads(done.stdout)
    assert payload["result"]["report"]["openvino"]["weights"] == mode and out.is_file()
    assert "nncf" not in done.stdout.lower() and "━" not in done.stderr
