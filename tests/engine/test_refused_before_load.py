"""Cancel and refusals that must happen before (or between the steps of) loading a model.

Each test replaces the step that must not run with one that fails the test, so
"never loaded" is asserted, not inferred from timings.
"""

from __future__ import annotations

import pytest
from safetensors.numpy import save_file

from photoflux_desktop.engine.diffusion import loader as loader_module
from photoflux_desktop.engine.diffusion.cache import PipelineCache
from photoflux_desktop.engine.diffusion.renderer import DiffusionRenderer
from photoflux_desktop.engine.errors import ErrorKind, PhotoFluxError
from photoflux_desktop.engine.local_renderer import LocalRenderer
from photoflux_desktop.engine.model_store import locate
from photoflux_desktop.engine.presets import get_preset
from photoflux_desktop.engine.request import (
    CancelToken,
    LoraSpec,
    ProgressEvent,
    RenderRequest,
    Stage,
    Status,
)
from tests.engine.test_diffusion_renderer import request_for

RENDERER_LOAD = "photoflux_desktop.engine.diffusion.renderer.load_pipeline"


def must_not_run(what: str):
    def fail(*args, **kwargs):
        pytest.fail(f"{what} ran")

    return fail


@pytest.fixture
def renderer() -> DiffusionRenderer:
    return DiffusionRenderer(PipelineCache(budget_bytes=2**30))


def run(renderer, request, cancel=None, events=None):
    sink = events.append if events is not None else (lambda event: None)
    return renderer.render(
        request, get_preset(request.style_id), locate(request.model), sink, cancel
    )


def cancelled_token() -> CancelToken:
    token = CancelToken()
    token.cancel()
    return token


# -- cancel ----------------------------------------------------------------------------


def test_a_request_cancelled_before_it_starts_never_loads_a_model(
    tiny_models, small_photo, renderer, monkeypatch
):
    monkeypatch.setattr(RENDERER_LOAD, must_not_run("load_pipeline"))
    events: list[ProgressEvent] = []
    request = request_for(small_photo, tiny_models["sd"])
    result = run(renderer, request, cancelled_token(), events)
    assert result.status is Status.CANCELLED and result.image is None
    assert result.backend == "diffusion" and result.parameters.steps_run == 0
    assert result.parameters.seed == request.seed
    assert events == [] and len(renderer.cache) == 0


def test_the_instant_renderer_returns_a_cancelled_result_too(small_photo):
    request = request_for(small_photo, "instant")
    result = LocalRenderer().render(request, cancel=cancelled_token())
    assert result.status is Status.CANCELLED and result.image is None
    assert result.backend == "instant" and result.parameters.style == "comic"


@pytest.mark.parametrize(
    ("cancelled_during", "never_runs"),
    [
        ("_load_loras", "quantize_pipeline"),  # the check after adapters
        ("quantize_pipeline", "apply_plan"),  # the check after quantization
        ("apply_plan", "nothing after placement"),  # the check before compile / return
    ],
)
def test_cancel_between_loading_steps_stops_the_load(
    tiny_models, small_photo, renderer, monkeypatch, cancelled_during, never_runs
):
    cancel = CancelToken()
    real = getattr(loader_module, cancelled_during)

    def run_then_cancel(*args, **kwargs):
        out = real(*args, **kwargs)
        cancel.cancel()  # as if the user pressed Cancel while this step ran
        return out

    monkeypatch.setattr(loader_module, cancelled_during, run_then_cancel)
    if never_runs in vars(loader_module):
        monkeypatch.setattr(loader_module, never_runs, must_not_run(never_runs))
    result = run(renderer, request_for(small_photo, tiny_models["sd"]), cancel)
    assert result.status is Status.CANCELLED and result.image is None
    assert len(renderer.cache) == 0  # a half-built pipeline is never cached
    assert "load" in result.timings and "encode" not in result.timings
    monkeypatch.undo()
    again = run(renderer, request_for(small_photo, tiny_models["sd"]))
    assert again.status is Status.COMPLETED  # the next render loads normally


def test_cancel_before_encoding_skips_the_pipeline_call(tiny_models, small_photo, renderer):
    cancel = CancelToken()
    events: list[ProgressEvent] = []

    def on_progress(event: ProgressEvent) -> None:
        events.append(event)
        if event.stage is Stage.ENCODING:
            cancel.cancel()

    request = request_for(small_photo, tiny_models["sd"])
    result = renderer.render(
        request, get_preset("comic"), locate(request.model), on_progress, cancel
    )
    assert result.status is Status.CANCELLED
    assert result.parameters.steps_run == 0 and result.parameters.render_width is not None
    assert "encode" not in result.timings and "denoise" not in result.timings
    assert not any(e.stage in (Stage.DENOISING, Stage.DECODING) for e in events)


# -- LoRA for another family -------------------------------------------------------------


def refused_before_load(renderer, request, monkeypatch) -> PhotoFluxError:
    monkeypatch.setattr(RENDERER_LOAD, must_not_run("load_pipeline"))
    with pytest.raises(PhotoFluxError) as caught:
        run(renderer, request)
    error = caught.value.error
    assert error.kind is ErrorKind.BAD_INPUT and "does not fit this model" in error.message
    return caught.value


@pytest.fixture(scope="module")
def sd_lora(tiny_models, tmp_path_factory):
    from tests.engine.lora_fixture import make_tiny_sd_lora

    return make_tiny_sd_lora(tiny_models["sd"], tmp_path_factory.mktemp("sd-lora"))


def test_an_sd_lora_on_flux_is_refused_before_loading(
    tiny_models, small_photo, renderer, monkeypatch, sd_lora
):
    request = request_for(small_photo, tiny_models["flux"], loras=(LoraSpec(str(sd_lora)),))
    error = refused_before_load(renderer, request, monkeypatch)
    assert "its layers belong to a UNet" in error.error.message


def test_an_sd_lora_on_sdxl_is_refused_by_its_text_width(
    tiny_models, small_photo, renderer, monkeypatch, sd_lora
):
    request = request_for(small_photo, tiny_models["sdxl"], loras=(LoraSpec(str(sd_lora)),))
    error = refused_before_load(renderer, request, monkeypatch)
    assert "32-wide text features, and this one has 64" in error.error.message


def test_a_flux_lora_on_sd_is_refused_before_loading(
    tiny_models, small_photo, renderer, monkeypatch, tmp_path
):
    import numpy as np

    path = tmp_path / "flux-lora.safetensors"
    save_file(
        {
            "transformer.single_transformer_blocks.0.attn.to_q.lora_A.weight": np.zeros(
                (4, 8), np.float32
            )
        },
        path,
    )
    request = request_for(small_photo, tiny_models["sd"], loras=(LoraSpec(str(path)),))
    refused_before_load(renderer, request, monkeypatch)


def test_an_undecidable_lora_is_left_to_the_load_time_check(
    tiny_models, small_photo, renderer, tmp_path
):
    import numpy as np

    path = tmp_path / "odd.safetensors"
    save_file({"some.unknown.layer.weight": np.zeros((4, 8), np.float32)}, path)
    request = request_for(small_photo, tiny_models["sd"], loras=(LoraSpec(str(path)),))
    with pytest.raises(PhotoFluxError) as caught:
        run(renderer, request)
    assert "does not fit this model" in caught.value.error.message
    assert renderer.cache.loads == 0  # refused while loading, nothing cached


def test_an_unknown_quantization_cannot_even_be_asked_for(small_photo):
    # once refused only after the whole model had loaded; now refused on build
    with pytest.raises(PhotoFluxError, match="quantize must be one of none, int8, fp8, int4"):
        RenderRequest(image=small_photo, style_id="comic", quantize="int3")
