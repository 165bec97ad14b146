"""The diffusion engine on tiny random-weight SD, SDXL and FLUX pipelines (CPU)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from photoflux_desktop.engine.diffusion import loader as loader_module
from photoflux_desktop.engine.diffusion.cache import PipelineCache
from photoflux_desktop.engine.diffusion.renderer import DiffusionRenderer
from photoflux_desktop.engine.errors import ErrorKind, PhotoFluxError
from photoflux_desktop.engine.local_renderer import LocalRenderer
from photoflux_desktop.engine.model_store import locate
from photoflux_desktop.engine.presets import get_preset
from photoflux_desktop.engine.request import (
    CancelToken,
    Likeness,
    ProgressEvent,
    RenderRequest,
    Stage,
    Status,
)
from tests.engine.diffusion_fixtures import install_as


def request_for(photo, model: Path | str | None, **overrides) -> RenderRequest:
    base = {
        "image": photo,
        "style_id": "comic",
        "model": model and str(model),
        "seed": 7,
        "steps": 4,
        "strength": 0.75,
        "max_side": 128,
        "previews": True,
    }
    return RenderRequest(**{**base, **overrides})


def render(renderer, req, events=None, cancel=None):
    preset = get_preset(req.style_id)
    sink = events.append if events is not None else (lambda event: None)
    return renderer.render(req, preset, locate(req.model), sink, cancel)


@pytest.fixture
def renderer() -> DiffusionRenderer:
    return DiffusionRenderer(PipelineCache(budget_bytes=2**30))


@pytest.mark.parametrize("family", ["sd", "sdxl", "flux"])
def test_each_family_renders_through_the_local_renderer(tiny_models, small_photo, family):
    events: list[ProgressEvent] = []
    result = LocalRenderer().render(request_for(small_photo, tiny_models[family]), events.append)
    assert result.status is Status.COMPLETED
    assert result.backend == "diffusion" and result.ai_generated
    assert result.image.size == small_photo.size  # back at the input's size and aspect
    assert result.parameters.family == family
    assert {"load", "encode", "denoise", "decode", "total"} <= set(result.timings)
    assert result.memory_plan == "full"
    stages = [event.stage for event in events]
    assert stages[0] is Stage.LOADING and stages[-1] is Stage.DONE
    assert Stage.DECODING in stages


def test_same_seed_same_image_other_seed_other_image(tiny_models, small_photo, renderer):
    first = render(renderer, request_for(small_photo, tiny_models["sd"], seed=11))
    again = render(renderer, request_for(small_photo, tiny_models["sd"], seed=11))
    other = render(renderer, request_for(small_photo, tiny_models["sd"], seed=12))
    assert np.array_equal(np.asarray(first.image), np.asarray(again.image))
    assert not np.array_equal(np.asarray(first.image), np.asarray(other.image))


@pytest.mark.parametrize("family", ["sd", "flux"])
def test_one_preview_per_step(tiny_models, small_photo, renderer, family):
    events: list[ProgressEvent] = []
    result = render(
        renderer, request_for(small_photo, tiny_models[family], steps=6, strength=1.0), events
    )
    steps = [e for e in events if e.stage is Stage.DENOISING]
    assert [e.step for e in steps] == list(range(1, result.parameters.steps_run + 1))
    assert all(e.total == len(steps) for e in steps)
    assert all(e.preview is not None and max(e.preview.size) <= 512 for e in steps)


def test_previews_use_a_tiny_autoencoder_when_installed(tiny_models, small_photo, monkeypatch):
    monkeypatch.setenv("PHOTOFLUX_PREVIEW_DECODER", "tiny")  # CPU default is the projection
    models = Path(os.environ["PHOTOFLUX_MODELS_DIR"])
    install_as(tiny_models["sd"], models, "sd-turbo")
    install_as(tiny_models["taesd"], models, "taesd")
    renderer = DiffusionRenderer(PipelineCache(budget_bytes=2**30))
    events: list[ProgressEvent] = []
    result = render(renderer, request_for(small_photo, "sd-turbo"), events)
    assert result.model == "sd-turbo"
    decoders = list(renderer._previews.values())
    assert [d.kind for d in decoders] == ["tiny-autoencoder"]
    assert any(e.preview is not None for e in events if e.stage is Stage.DENOISING)


def test_cpu_previews_default_to_the_projection(tiny_models, small_photo):
    models = Path(os.environ["PHOTOFLUX_MODELS_DIR"])
    install_as(tiny_models["sd"], models, "sd-turbo")
    install_as(tiny_models["taesd"], models, "taesd")
    renderer = DiffusionRenderer(PipelineCache(budget_bytes=2**30))
    render(renderer, request_for(small_photo, "sd-turbo"))
    assert [d.kind for d in renderer._previews.values()] == ["projection"]


def test_automatic_choice_uses_an_installed_catalog_model(tiny_models, small_photo):
    install_as(tiny_models["sd"], Path(os.environ["PHOTOFLUX_MODELS_DIR"]), "sd-turbo")
    req = request_for(small_photo, None, prompt="a knight")
    result = LocalRenderer().render(req)
    assert result.backend == "diffusion" and result.model == "sd-turbo"
    assert "a knight" in result.parameters.prompt


def test_cancel_mid_render_stops_within_a_step_and_skips_decode(tiny_models, small_photo, renderer):
    cancel = CancelToken()
    events: list[ProgressEvent] = []

    def on_progress(event: ProgressEvent) -> None:
        events.append(event)
        if event.stage is Stage.DENOISING and event.step == 2:
            cancel.cancel()

    req = request_for(small_photo, tiny_models["sd"], steps=20, strength=1.0)
    result = renderer.render(req, get_preset("comic"), locate(req.model), on_progress, cancel)
    assert result.status is Status.CANCELLED
    assert result.image is None
    assert result.parameters.steps_run == 3  # the step in flight when cancelled, no more
    assert "decode" not in result.timings
    assert not any(e.stage is Stage.DECODING for e in events)


def test_out_of_memory_falls_back_to_a_cheaper_plan(
    tiny_models, small_photo, renderer, monkeypatch
):
    real_load = loader_module.load_pipeline
    calls = {"n": 0}

    def load_then_oom_once(*args, **kwargs):
        pipe = real_load(*args, **kwargs)
        if calls["n"] == 0:

            def explode(module, inputs):
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

            pipe.unet.register_forward_pre_hook(explode)
        calls["n"] += 1
        return pipe

    monkeypatch.setattr(
        "photoflux_desktop.engine.diffusion.renderer.load_pipeline", load_then_oom_once
    )
    result = render(renderer, request_for(small_photo, tiny_models["sd"]))
    assert result.status is Status.COMPLETED
    assert result.memory_plan == "lowmem"
    assert result.report["failed_attempts"] == ["full: out of memory"]


def test_out_of_memory_on_every_plan_is_exit_4(tiny_models, small_photo, renderer, monkeypatch):
    def always_oom(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr("photoflux_desktop.engine.diffusion.renderer.load_pipeline", always_oom)
    with pytest.raises(PhotoFluxError) as caught:
        render(renderer, request_for(small_photo, tiny_models["sd"]))
    error = caught.value.error
    assert error.kind is ErrorKind.OUT_OF_MEMORY and error.kind.exit_code == 4
    assert "--quantize int8" in error.hint
    assert error.details["attempts"] == ["full: out of memory", "lowmem: out of memory"]


def test_transient_errors_are_retried_with_a_bound(tiny_models, small_photo, renderer, monkeypatch):
    real_load = loader_module.load_pipeline
    failures = {"left": 1}

    def flaky(*args, **kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise TimeoutError("disk timed out")
        return real_load(*args, **kwargs)

    target = "photoflux_desktop.engine.diffusion.renderer.load_pipeline"
    monkeypatch.setattr(target, flaky)
    result = render(renderer, request_for(small_photo, tiny_models["sd"]))
    assert result.report["failed_attempts"] == ["full: TimeoutError, retrying"]

    def always_flaky(*args, **kwargs):
        raise TimeoutError("disk timed out")

    monkeypatch.setattr(target, always_flaky)
    renderer.cache.clear()
    with pytest.raises(PhotoFluxError, match="kept failing with TimeoutError"):
        render(renderer, request_for(small_photo, tiny_models["sd"]))


def test_int8_quantized_render_holds_fewer_weight_bytes(tiny_models, small_photo, renderer):
    plain = render(renderer, request_for(small_photo, tiny_models["sd"]))
    quantized = render(renderer, request_for(small_photo, tiny_models["sd"], quantize="int8"))
    assert quantized.status is Status.COMPLETED
    assert quantized.parameters.quantize == "int8"
    assert quantized.report["weights_mb"] < plain.report["weights_mb"] * 0.8


def test_cache_reuses_loaded_pipelines_per_key(tiny_models, small_photo, renderer):
    first = render(renderer, request_for(small_photo, tiny_models["sd"]))
    second = render(renderer, request_for(small_photo, tiny_models["sd"], seed=99))
    assert not first.report["pipeline_cached"] and second.report["pipeline_cached"]
    assert renderer.cache.loads == 1
    render(renderer, request_for(small_photo, tiny_models["sd"], quantize="int8"))
    assert renderer.cache.loads == 2  # another quantization is another pipeline


def test_cache_is_bounded(tiny_models, small_photo):
    renderer = DiffusionRenderer(PipelineCache(budget_bytes=2**30, max_entries=1))
    render(renderer, request_for(small_photo, tiny_models["sd"]))
    render(renderer, request_for(small_photo, tiny_models["flux"]))
    assert len(renderer.cache) == 1


def test_concurrent_jobs_do_not_share_a_scheduler(tiny_models, small_photo, renderer):
    expected = {
        seed: render(renderer, request_for(small_photo, tiny_models["sd"], seed=seed))
        for seed in (1, 2)
    }
    got: dict[int, object] = {}

    def job(seed: int) -> None:
        got[seed] = render(renderer, request_for(small_photo, tiny_models["sd"], seed=seed))

    threads = [threading.Thread(target=job, args=(seed,)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for seed in (1, 2):
        assert np.array_equal(np.asarray(got[seed].image), np.asarray(expected[seed].image))


def test_strength_times_steps_below_one_is_fixed(tiny_models, small_photo, renderer):
    result = render(renderer, request_for(small_photo, tiny_models["sd"], steps=1, strength=0.4))
    assert result.parameters.steps == 3
    assert result.parameters.steps_run == 1
    assert "would run no denoising step" in result.notes[0]


def test_size_is_rounded_for_the_model_and_returned_at_input_aspect(tiny_models, renderer):
    from PIL import Image

    odd = Image.new("RGB", (101, 67), (90, 120, 200))
    result = render(renderer, request_for(odd, tiny_models["sdxl"]))
    # the tiny SDXL needs multiples of 4 (VAE ×2, UNet ×2); real SDXL needs 64
    width, height = result.parameters.render_width, result.parameters.render_height
    assert width % 4 == 0 and height % 4 == 0
    assert abs(width / height - 101 / 67) < 0.05
    assert result.image.size == (101, 67)


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("no_index", "not a diffusers model folder"),
        ("bad_index", "damaged"),
        ("truncated_weights", "could not be loaded"),
        ("unknown_pipeline", "cannot run"),
    ],
)
def test_missing_or_corrupt_models_are_exit_3(
    tiny_models, small_photo, renderer, tmp_path, damage, expected
):
    import json
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_models["sd"], broken)
    index = broken / "model_index.json"
    if damage == "no_index":
        index.unlink()
    elif damage == "bad_index":
        index.write_text("{ half")
    elif damage == "unknown_pipeline":
        index.write_text(json.dumps({"_class_name": "AudioLDMPipeline"}))
    else:
        weights = next((broken / "unet").glob("*.safetensors"))
        weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(PhotoFluxError) as caught:
        LocalRenderer().render(request_for(small_photo, broken))
    assert caught.value.error.kind is ErrorKind.MODEL_MISSING
    assert expected in caught.value.error.message


def test_named_devices_and_plans_that_cannot_work_here(tiny_models, small_photo, renderer):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(PhotoFluxError, match="no CUDA GPU"):
        render(renderer, request_for(small_photo, tiny_models["sd"], device="cuda"))
    with pytest.raises(PhotoFluxError, match="needs an NVIDIA GPU"):
        render(renderer, request_for(small_photo, tiny_models["sd"], memory="offload"))
    # likeness works (tests/engine/test_likeness.py) once its add-on is downloaded
    with pytest.raises(PhotoFluxError) as caught:
        render(renderer, request_for(small_photo, tiny_models["sd"], likeness=Likeness.CANNY))
    assert "photoflux models download controlnet-canny-sd21" in caught.value.error.hint


def test_lowmem_plan_renders(tiny_models, small_photo, renderer):
    result = render(renderer, request_for(small_photo, tiny_models["sdxl"], memory="lowmem"))
    assert result.status is Status.COMPLETED and result.memory_plan == "lowmem"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_renders_on_cuda_with_every_plan(tiny_models, small_photo):  # pragma: no cover
    for plan in ("full", "lowmem", "offload", "sequential"):
        renderer = DiffusionRenderer()
        result = render(renderer, request_for(small_photo, tiny_models["sd"], memory=plan))
        assert result.memory_plan == plan and result.report["peak_vram_mb"] > 0


def test_user_lora_changes_the_result_and_scales_by_weight(
    tiny_models, small_photo, renderer, tmp_path
):
    from photoflux_desktop.engine.request import LoraSpec
    from tests.engine.lora_fixture import make_tiny_sd_lora

    lora = make_tiny_sd_lora(tiny_models["sd"], tmp_path / "lora")
    plain = np.asarray(
        render(renderer, request_for(small_photo, tiny_models["sd"])).image, np.float32
    )

    def with_lora(weight: float) -> np.ndarray:
        req = request_for(small_photo, tiny_models["sd"], loras=(LoraSpec(str(lora), weight),))
        return np.asarray(render(renderer, req).image, np.float32)

    strong, weak = with_lora(1.0), with_lora(0.1)
    assert np.abs(strong - plain).mean() > np.abs(weak - plain).mean() > 0


def test_lora_for_another_family_is_refused_clearly(tiny_models, small_photo, renderer, tmp_path):
    from photoflux_desktop.engine.request import LoraSpec
    from tests.engine.lora_fixture import make_tiny_sd_lora

    lora = make_tiny_sd_lora(tiny_models["sd"], tmp_path / "lora")
    req = request_for(small_photo, tiny_models["flux"], loras=(LoraSpec(str(lora)),))
    with pytest.raises(PhotoFluxError) as caught:
        render(renderer, req)
    assert caught.value.error.kind is ErrorKind.BAD_INPUT
    assert "does not fit this model" in caught.value.error.message


@pytest.mark.slow
def test_compiled_denoiser_warms_up_once(tiny_models, small_photo, renderer):
    first = render(renderer, request_for(small_photo, tiny_models["sd"], compile=True, steps=2))
    second = render(renderer, request_for(small_photo, tiny_models["sd"], compile=True, steps=2))
    plain = render(renderer, request_for(small_photo, tiny_models["sd"], steps=2))
    assert first.timings["compile_warmup"] > 0
    assert "compile_warmup" not in second.timings
    # compiled kernels compute the same function as eager ones
    diff = np.abs(np.asarray(second.image, np.int16) - np.asarray(plain.image, np.int16))
    assert diff.mean() < 2.0
