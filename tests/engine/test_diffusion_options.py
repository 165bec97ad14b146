"""Every offered render option works: quantization on each family, and --compile paying
its compilation once per shape in a visible, cancellable warm-up (tiny models, CPU)."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from photoflux_desktop.engine.diffusion import loader as loader_module
from photoflux_desktop.engine.diffusion.cache import PipelineCache
from photoflux_desktop.engine.diffusion.renderer import DiffusionRenderer
from photoflux_desktop.engine.model_store import locate
from photoflux_desktop.engine.presets import get_preset
from photoflux_desktop.engine.request import (
    CancelToken,
    ProgressEvent,
    RenderRequest,
    Stage,
    Status,
)
from tests.cli.test_cli_basics import run_json

QTYPES = {"int8": "qint8", "fp8": "qfloat8_e4m3fn", "int4": "qint4"}


def request_for(photo, model, **overrides) -> RenderRequest:
    base = {
        "image": photo,
        "style_id": "comic",
        "model": str(model),
        "seed": 3,
        "steps": 2,
        "strength": 1.0,
        "max_side": 64,
        "previews": False,
    }
    return RenderRequest(**{**base, **overrides})


def render(renderer, req, on_progress=None, cancel=None):
    sink = on_progress or (lambda event: None)
    return renderer.render(req, get_preset(req.style_id), locate(req.model), sink, cancel)


@pytest.fixture
def renderer() -> DiffusionRenderer:
    return DiffusionRenderer(PipelineCache(budget_bytes=2**30))


@pytest.fixture
def loaded(monkeypatch) -> list[Any]:
    """Every pipeline the renderer loads, caught as the loader quantizes it."""
    pipes: list[Any] = []
    real = loader_module.quantize_pipeline

    def catch(pipe, mode):
        pipes.append(pipe)
        return real(pipe, mode)

    monkeypatch.setattr(loader_module, "quantize_pipeline", catch)
    return pipes


def denoiser(pipe: Any) -> torch.nn.Module:
    return getattr(pipe, "unet", None) or pipe.transformer


def weight_qtypes(module: torch.nn.Module) -> set[str]:
    return {m.weight_qtype.name for m in module.modules() if getattr(m, "weight_qtype", None)}


# --- quantization ------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["int8", "fp8", "int4"])
@pytest.mark.parametrize("family", ["sd", "sdxl", "flux"])
def test_each_quantization_renders_on_each_family(
    tiny_models, small_photo, renderer, loaded, family, mode
):
    result = render(renderer, request_for(small_photo, tiny_models[family], quantize=mode))
    assert result.status is Status.COMPLETED
    assert result.image is not None and result.image.size == small_photo.size
    assert result.parameters.quantize == mode
    # the render really ran on weights of that type, not on a silently skipped quantization
    assert weight_qtypes(denoiser(loaded[0])) == {QTYPES[mode]}


def test_int4_renders_from_the_command_line(capsys, tmp_path, astronaut_path, tiny_models):
    out = tmp_path / "out.png"
    code, payload = run_json(
        capsys,
        "render",
        str(astronaut_path),
        "-o",
        str(out),
        "--model",
        str(tiny_models["sd"]),
        "--quantize",
        "int4",
        "--steps",
        "2",
        "--max-side",
        "64",
    )
    assert code == 0, payload
    assert payload["result"]["status"] == "completed"
    assert payload["result"]["parameters"]["quantize"] == "int4"
    assert out.is_file()


@pytest.mark.parametrize("mode", ["none", "int8"])
def test_half_precision_weights_stay_half_precision_across_renders(
    tiny_models, small_photo, renderer, loaded, monkeypatch, mode
):
    """A GPU loads fp16/bf16 weights. Each render's pipeline shares them: it must neither
    cast them to float32 (twice the memory) nor try to cast quantized ones (which fail)."""
    monkeypatch.setattr(loader_module, "choose_dtype", lambda device, family: torch.bfloat16)
    for seed in (1, 2):
        result = render(renderer, request_for(small_photo, tiny_models["sd"], quantize=mode))
        assert result.status is Status.COMPLETED, seed
    assert loaded[0].unet.dtype == torch.bfloat16
    assert loaded[0].text_encoder.dtype == torch.bfloat16


# --- torch.compile -----------------------------------------------------------------


class CountingCompiler:
    """A torch.compile backend that records the stage each compilation happened in.

    The product compiles with inductor; here an eager backend stands in, because
    inductor's C++ builds take minutes on a 2-core machine and what is under test is
    when the renderer compiles, not what the compiler makes. (The inductor path itself
    is exercised by test_diffusion_renderer.py::test_compiled_denoiser_warms_up_once.)"""

    def __init__(self) -> None:
        self.stage: Stage | None = None
        self.stages: list[Stage | None] = []
        self.on_compile = lambda: None

    def __call__(self, graph: torch.fx.GraphModule, example_inputs: list[Any]) -> Any:
        self.stages.append(self.stage)
        self.on_compile()
        return graph.forward

    def track(self, events: list[ProgressEvent]):
        def on_progress(event: ProgressEvent) -> None:
            self.stage = event.stage
            events.append(event)

        return on_progress


@pytest.fixture
def compiler(monkeypatch) -> CountingCompiler:
    counting = CountingCompiler()
    monkeypatch.setattr(loader_module, "COMPILE_BACKEND", counting)
    return counting


def warmups(events: list[ProgressEvent]) -> list[ProgressEvent]:
    return [event for event in events if event.stage is Stage.WARMUP]


@pytest.mark.slow
def test_compile_warms_up_once_per_size_and_never_inside_denoise(
    tiny_models, small_photo, renderer, compiler
):
    sizes = []
    for side in (64, 96, 64):
        events: list[ProgressEvent] = []
        req = request_for(small_photo, tiny_models["sd"], compile=True, max_side=side)
        result = render(renderer, req, compiler.track(events))
        assert result.status is Status.COMPLETED
        sizes.append((result.parameters.render_width, result.parameters.render_height))
        if len(sizes) < 3:  # a new size: one visible warm-up, timed apart from denoise
            [warmup] = warmups(events)
            width, height = sizes[-1]
            assert warmup.message == f"Compiling for {width}×{height} (first time at this size)…"
            assert result.timings["compile_warmup"] > 0 and "denoise" in result.timings
            stages = [event.stage for event in events]
            assert stages.index(Stage.WARMUP) < stages.index(Stage.ENCODING)
        else:  # the first size again: compiled already
            assert warmups(events) == [] and "compile_warmup" not in result.timings
        # every compilation happened during a warm-up, none inside the render itself
        assert compiler.stages and set(compiler.stages) == {Stage.WARMUP}
    assert sizes[0] != sizes[1] and sizes[2] == sizes[0]
    compiled = len(compiler.stages)
    render(renderer, request_for(small_photo, tiny_models["sd"], compile=True, seed=9))
    assert len(compiler.stages) == compiled  # another seed at a known size: no compile


def test_cancel_while_compiling_returns_a_cancelled_result(
    tiny_models, small_photo, renderer, compiler
):
    cancel = CancelToken()
    compiler.on_compile = cancel.cancel  # the user clicks Cancel while the compiler runs
    events: list[ProgressEvent] = []
    req = request_for(small_photo, tiny_models["sd"], compile=True)
    result = render(renderer, req, compiler.track(events), cancel)
    assert result.status is Status.CANCELLED and result.image is None
    assert "compile_warmup" in result.timings and "denoise" not in result.timings
    assert len(warmups(events)) == 1
    assert not {Stage.ENCODING, Stage.DENOISING, Stage.DECODING, Stage.DONE} & {
        event.stage for event in events
    }


def test_cancel_on_seeing_the_warmup_skips_the_compilation(
    tiny_models, small_photo, renderer, compiler
):
    cancel = CancelToken()
    events: list[ProgressEvent] = []
    track = compiler.track(events)

    def on_progress(event: ProgressEvent) -> None:
        track(event)
        if event.stage is Stage.WARMUP:
            cancel.cancel()

    req = request_for(small_photo, tiny_models["sd"], compile=True)
    result = render(renderer, req, on_progress, cancel)
    assert result.status is Status.CANCELLED and result.image is None
    assert compiler.stages == []  # nothing compiled, nothing rendered
    assert events[-1].stage is Stage.WARMUP


def test_compiled_quantized_pipeline_renders_again(tiny_models, small_photo, renderer, compiler):
    """torch.compile's guards hold the weights; a second render must not try to swap them."""
    for seed in (1, 2):
        req = request_for(
            small_photo, tiny_models["flux"], compile=True, quantize="int8", seed=seed
        )
        assert render(renderer, req).status is Status.COMPLETED
