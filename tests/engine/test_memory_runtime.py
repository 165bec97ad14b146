"""The memory runtime: a ladder that remembers, recovery that frees, a cache that keys
on what needs a reload, and TAESD previews under every plan.

A GPU is simulated: the engine sees a CUDA DeviceInfo (so it offers the offload plans
and budgets by VRAM) whose tensors live on the CPU, where accelerate's offload hooks
work as well. Out-of-memory errors are injected into the denoiser on chosen plans.
"""

from __future__ import annotations

import json
import os
import sys
import weakref
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
import torch

from photoflux_desktop.engine import paths
from photoflux_desktop.engine.devices import DeviceInfo
from photoflux_desktop.engine.diffusion import cache as cache_module
from photoflux_desktop.engine.diffusion import loader as loader_module
from photoflux_desktop.engine.diffusion import renderer as renderer_module
from photoflux_desktop.engine.diffusion.cache import PipelineCache, pool_budget
from photoflux_desktop.engine.diffusion.loader import PipelineKey
from photoflux_desktop.engine.diffusion.plan_memory import FILE_NAME
from photoflux_desktop.engine.diffusion.renderer import DiffusionRenderer
from photoflux_desktop.engine.request import LoraSpec, ProgressEvent, Stage, Status
from tests.engine.diffusion_fixtures import install_as
from tests.engine.test_diffusion_renderer import render, request_for

GB = 1024**3
OOM_MESSAGE = "CUDA out of memory. Tried to allocate 2.00 GiB (simulated)"


@dataclass(frozen=True)
class SimulatedCuda(DeviceInfo):
    """A small NVIDIA card as the engine sees it; its tensors really live on the CPU."""

    @property
    def torch_device(self) -> str:
        return "cpu"


SMALL_CARD = SimulatedCuda(
    kind="cuda",
    name="Simulated RTX 3050 4GB",
    total_gb=4.0,
    free_gb=3.0,
    ram_total_gb=16.0,
    ram_free_gb=8.0,
)


@pytest.fixture
def small_card(monkeypatch: pytest.MonkeyPatch) -> SimulatedCuda:
    monkeypatch.setattr(renderer_module, "detect_device", lambda requested="auto": SMALL_CARD)
    # a CUDA device means fp16 weights; the CPU standing in for it computes in fp32
    for module in (renderer_module, loader_module):
        monkeypatch.setattr(module, "choose_dtype", lambda device, family: torch.float32)
    return SMALL_CARD


def inject_oom(monkeypatch: pytest.MonkeyPatch, plans: tuple[str, ...]) -> None:
    """Every pipeline loaded with one of `plans` runs out of memory in its denoiser."""
    real_apply = loader_module.apply_plan

    def apply_then_break(pipe, plan, device):
        real_apply(pipe, plan, device)
        if plan.value in plans:

            def explode(module, inputs):
                raise torch.OutOfMemoryError(OOM_MESSAGE)

            pipe.unet.register_forward_pre_hook(explode)

    monkeypatch.setattr(loader_module, "apply_plan", apply_then_break)


def record_loads(monkeypatch: pytest.MonkeyPatch, renderer: DiffusionRenderer) -> list[dict]:
    """What the cache held each time a pipeline started loading, and the loaded unets."""
    real_load = renderer_module.load_pipeline
    loads: list[dict] = []

    def load(located, device, plan, **kwargs):
        loads.append({"plan": plan.value, "cached": list(renderer.cache.cached_keys())})
        pipe = real_load(located, device, plan, **kwargs)
        loads[-1]["unet"] = weakref.ref(pipe.unet)
        return pipe

    monkeypatch.setattr(renderer_module, "load_pipeline", load)
    return loads


def plans_file() -> Path:
    return paths.cache_dir() / FILE_NAME


def ok(plan: str) -> dict:
    return {"plan": plan, "outcome": "ok", "error": None}


def oom(plan: str) -> dict:
    return {"plan": plan, "outcome": "out_of_memory", "error": f"OutOfMemoryError: {OOM_MESSAGE}"}


def test_the_plan_that_worked_is_where_the_next_render_and_the_next_start_begin(
    tiny_models, small_photo, small_card, monkeypatch
):
    inject_oom(monkeypatch, ("full",))
    renderer = DiffusionRenderer(PipelineCache(budget_bytes=2**30))
    req = request_for(small_photo, tiny_models["sd"])

    first = render(renderer, req)
    assert first.status is Status.COMPLETED and first.memory_plan == "lowmem"
    assert first.report["attempts"] == [oom("full"), ok("lowmem")]
    assert first.report["failed_attempts"] == ["full: out of memory"]
    assert renderer.cache.loads == 2
    saved = json.loads(plans_file().read_text())
    assert [entry["plan"] for entry in saved.values()] == ["lowmem"]

    second = render(renderer, req)
    assert second.report["attempts"] == [ok("lowmem")]  # no second trip through `full`
    assert second.report["pipeline_cached"] and renderer.cache.loads == 2
    assert "worked last time" in second.report["plan_reason"]

    restarted = DiffusionRenderer(PipelineCache(budget_bytes=2**30))  # a new process
    third = render(restarted, req)
    assert third.report["attempts"] == [ok("lowmem")]
    assert restarted.cache.loads == 1
    assert np.array_equal(np.asarray(third.image), np.asarray(first.image))


def test_a_remembered_plan_that_fails_steps_down_and_is_replaced(
    tiny_models, small_photo, small_card, monkeypatch
):
    inject_oom(monkeypatch, ("full",))
    req = request_for(small_photo, tiny_models["sd"], previews=False)
    render(DiffusionRenderer(PipelineCache(budget_bytes=2**30)), req)  # learns `lowmem`

    inject_oom(monkeypatch, ("full", "lowmem"))  # less memory free than last time
    renderer = DiffusionRenderer(PipelineCache(budget_bytes=2**30))
    result = render(renderer, req)
    assert result.report["attempts"] == [oom("lowmem"), ok("offload")]
    assert result.memory_plan == "offload"
    again = render(DiffusionRenderer(PipelineCache(budget_bytes=2**30)), req)
    assert again.report["attempts"] == [ok("offload")]


def test_more_free_memory_than_when_learnt_lets_the_estimate_decide_again(
    tiny_models, small_photo, small_card, monkeypatch
):
    real_apply = loader_module.apply_plan
    inject_oom(monkeypatch, ("full",))
    req = request_for(small_photo, tiny_models["sd"], previews=False)
    render(DiffusionRenderer(PipelineCache(budget_bytes=2**30)), req)

    # the other GPU program was closed: more is free, and `full` fits again
    monkeypatch.setattr(loader_module, "apply_plan", real_apply)
    roomier = replace(SMALL_CARD, free_gb=3.9)
    monkeypatch.setattr(renderer_module, "detect_device", lambda requested="auto": roomier)
    result = render(DiffusionRenderer(PipelineCache(budget_bytes=2**30)), req)
    assert result.report["attempts"] == [ok("full")]


def test_a_plan_the_user_named_is_not_remembered_unless_it_failed(
    tiny_models, small_photo, small_card, monkeypatch
):
    renderer = DiffusionRenderer(PipelineCache(budget_bytes=2**30))
    forced = render(renderer, request_for(small_photo, tiny_models["sd"], memory="offload"))
    assert forced.memory_plan == "offload"
    assert not plans_file().exists()  # `offload` worked, which says nothing about `full`
    auto = render(renderer, request_for(small_photo, tiny_models["sd"]))
    assert auto.report["attempts"] == [ok("full")]

    inject_oom(monkeypatch, ("full",))
    renderer.cache.clear()
    stepped = render(renderer, request_for(small_photo, tiny_models["sd"], memory="full"))
    assert stepped.report["attempts"] == [oom("full"), ok("lowmem")]
    later = render(renderer, request_for(small_photo, tiny_models["sd"]))
    assert later.report["attempts"] == [ok("lowmem")]  # the failure was evidence


def test_out_of_memory_frees_outside_the_except_and_evicts_every_pipeline_on_the_device(
    tiny_models, small_photo, small_card, monkeypatch
):
    renderer = DiffusionRenderer(PipelineCache(budget_bytes=2**30))
    other = render(renderer, request_for(small_photo, tiny_models["sdxl"], previews=False))
    assert other.memory_plan == "full" and len(renderer.cache) == 1

    frees: list[tuple] = []
    real_free = renderer_module.free_memory

    def free_and_record(collect: bool = True) -> None:
        frees.append(sys.exc_info())
        real_free(collect)

    monkeypatch.setattr(renderer_module, "free_memory", free_and_record)
    monkeypatch.setattr(cache_module, "free_memory", free_and_record)
    inject_oom(monkeypatch, ("full",))
    loads = record_loads(monkeypatch, renderer)

    result = render(renderer, request_for(small_photo, tiny_models["sd"], previews=False))
    assert result.memory_plan == "lowmem"
    assert [load["plan"] for load in loads] == ["full", "lowmem"]
    assert [key.family for key in loads[0]["cached"]] == ["sdxl"]
    assert loads[1]["cached"] == []  # the SDXL pipeline went too, before stepping down
    # the failed pipeline was really gone by then: nothing (no traceback) kept it alive
    assert loads[0]["unet"]() is None
    assert frees and all(info == (None, None, None) for info in frees)


def test_every_plan_failing_reports_every_attempt(
    tiny_models, small_photo, small_card, monkeypatch
):
    from photoflux_desktop.engine.errors import ErrorKind, PhotoFluxError

    inject_oom(monkeypatch, ("full", "lowmem", "offload", "sequential"))
    monkeypatch.setattr(
        "diffusers.DiffusionPipeline.enable_sequential_cpu_offload", sequential_offload_on_cpu
    )
    with pytest.raises(PhotoFluxError) as caught:
        render(
            DiffusionRenderer(PipelineCache(budget_bytes=2**30)),
            request_for(small_photo, tiny_models["sd"], previews=False),
        )
    error = caught.value.error
    assert error.kind is ErrorKind.OUT_OF_MEMORY
    assert [a["plan"] for a in error.details["attempt_log"]] == [
        "full",
        "lowmem",
        "offload",
        "sequential",
    ]
    assert not plans_file().exists()


def sequential_offload_on_cpu(self, gpu_id=None, device=None):
    """diffusers' sequential offload, for a CPU standing in for the GPU: diffusers names
    the device "cpu:0", which accelerate's hooks do not match on a CPU (on a GPU it is
    "cuda:0" throughout), so the same accelerate call is made with plain "cpu"."""
    from accelerate import cpu_offload

    self.remove_all_hooks()
    for component in self.components.values():
        if isinstance(component, torch.nn.Module):
            offload_buffers = len(component._parameters) > 0
            cpu_offload(component, torch.device("cpu"), offload_buffers=offload_buffers)


@pytest.mark.parametrize("plan", ["offload", "sequential"])
def test_offloaded_plans_preview_with_the_tiny_autoencoder_on_the_execution_device(
    tiny_models, small_photo, small_card, monkeypatch, plan
):
    monkeypatch.setenv("PHOTOFLUX_PREVIEW_DECODER", "tiny")
    models = Path(os.environ["PHOTOFLUX_MODELS_DIR"])
    install_as(tiny_models["sd"], models, "sd-turbo")
    install_as(tiny_models["taesd"], models, "taesd")
    if plan == "sequential":
        monkeypatch.setattr(
            "diffusers.DiffusionPipeline.enable_sequential_cpu_offload", sequential_offload_on_cpu
        )
    vae_devices: list[str] = []
    real_apply = loader_module.apply_plan

    def apply_and_look(pipe, memory_plan, device):
        real_apply(pipe, memory_plan, device)
        vae_devices.append(pipe.vae.device.type)

    monkeypatch.setattr(loader_module, "apply_plan", apply_and_look)
    renderer = DiffusionRenderer(PipelineCache(budget_bytes=2**30))
    events: list[ProgressEvent] = []
    req = request_for(small_photo, "sd-turbo", memory=plan, steps=2, strength=1.0)
    result = render(renderer, req, events)

    assert result.status is Status.COMPLETED and result.memory_plan == plan
    # what used to mislead the preview decoder: the VAE reads cpu / meta when offloaded
    assert vae_devices == [{"offload": "cpu", "sequential": "meta"}[plan]]
    decoders = list(renderer._previews.values())
    assert [d.kind for d in decoders] == ["tiny-autoencoder"]
    assert decoders[0].tiny.device.type == "cpu"  # the execution device, never meta
    steps = [e for e in events if e.stage is Stage.DENOISING]
    assert steps and all(e.preview is not None for e in steps)


def test_lora_weights_change_without_a_reload(tiny_models, small_photo, tmp_path):
    from tests.engine.lora_fixture import make_tiny_sd_lora

    lora = str(make_tiny_sd_lora(tiny_models["sd"], tmp_path / "lora"))
    renderer = DiffusionRenderer(PipelineCache(budget_bytes=2**30))

    def with_weight(weight: float) -> np.ndarray:
        req = request_for(small_photo, tiny_models["sd"], loras=(LoraSpec(lora, weight),))
        return np.asarray(render(renderer, req).image)

    half, full, half_again = with_weight(0.5), with_weight(1.0), with_weight(0.5)
    assert renderer.cache.loads == 1
    assert not np.array_equal(half, full)
    assert np.array_equal(half, half_again)


def _key(name: str, device: str, plan: str) -> PipelineKey:
    return PipelineKey(name, "sd", device, "float16", plan, "none", (), False)


class _FakePipe:
    def __init__(self, megabytes: int) -> None:
        self.components = {"weights": torch.nn.Linear(256, megabytes * 1024)}  # ~1 MB each


def test_the_cache_budgets_gpu_memory_and_ram_apart():
    gib = 2**30
    assert pool_budget("cuda:0", SMALL_CARD) == int(2.5 * gib)  # 4 GB less 1.5 GB headroom
    assert pool_budget("ram", SMALL_CARD) == 8 * gib  # half of the RAM
    big = SimulatedCuda(kind="cuda", name="big", total_gb=80.0, ram_total_gb=64.0)
    assert pool_budget("cuda:0", big) == int(68 * gib)  # 15% headroom on large cards

    cache = PipelineCache(budget_bytes=3 * 2**20)  # room for one 2 MB pipeline per pool
    cache.get(_key("a", "cuda:0", "full"), lambda: _FakePipe(2))
    cache.get(_key("b", "cuda:0", "offload"), lambda: _FakePipe(2))  # its weights sit in RAM
    assert {key.path for key in cache.cached_keys()} == {"a", "b"}
    cache.get(_key("c", "cuda:0", "lowmem"), lambda: _FakePipe(2))
    assert {key.path for key in cache.cached_keys()} == {"b", "c"}  # `a` made room on the GPU
