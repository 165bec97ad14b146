"""Loading diffusers img2img pipelines from disk, with typed errors."""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from photoflux_desktop.engine.devices import DeviceInfo, MemoryPlan
from photoflux_desktop.engine.diffusion.likeness_pipes import (
    attach_ip_adapter,
    extra_components,
    pipeline_class,
)
from photoflux_desktop.engine.diffusion.memory import apply_plan, is_oom, is_transient
from photoflux_desktop.engine.diffusion.quantize import quantize_pipeline
from photoflux_desktop.engine.downloads import LORA_SUBFOLDER
from photoflux_desktop.engine.errors import PhotoFluxError, bad_input, model_missing
from photoflux_desktop.engine.likeness import LikenessPlan
from photoflux_desktop.engine.model_store import LocatedModel
from photoflux_desktop.engine.request import CancelToken, LoraSpec

PIPELINE_CLASSES = {
    "sd": "StableDiffusionImg2ImgPipeline",
    "sdxl": "StableDiffusionXLImg2ImgPipeline",
    "flux": "FluxImg2ImgPipeline",
}

# torch.compile backend for --compile. The product always uses inductor; tests swap in a
# counting eager backend, since inductor's C++ compilation takes minutes on a 2-core CI
# machine and the renderer's warm-up logic does not depend on which backend compiles.
COMPILE_BACKEND: Any = "inductor"


class LoadCancelled(Exception):
    """Cancel arrived between loading steps; the half-built pipeline is dropped."""


def _stop_if_cancelled(cancel: CancelToken | None) -> None:
    if cancel is not None and cancel.cancelled:
        raise LoadCancelled


@dataclass(frozen=True)
class PipelineKey:
    """What a loaded pipeline is: everything here needs a reload to change. LoRA
    weights are not here: they are set per render (`lora_weights_applied`)."""

    path: str
    family: str
    device: str
    dtype: str
    plan: str
    quantize: str
    loras: tuple[str, ...]  # the SET of LoRA files, sorted
    compile: bool
    likeness: str = ""  # the ControlNet / IP-Adapter folder built in, if any


def likeness_key(plan: LikenessPlan | None) -> str:
    if plan is None:
        return ""
    face = f"+ip-adapter:{plan.face.addon_path}" if plan.face is not None else ""
    return f"{plan.kind}:{plan.addon_path}{face}"


def lora_files(loras: tuple[LoraSpec, ...]) -> tuple[str, ...]:
    return tuple(sorted({lora.path for lora in loras}))


def adapter_name(path: str) -> str:
    """A stable adapter name per file, so any order of the same files fits one pipeline."""
    return "user_" + hashlib.sha1(path.encode("utf-8")).hexdigest()[:12]


def quiet_libraries() -> None:
    """Progress bars and advice from diffusers/transformers are noise in our UIs."""
    import diffusers
    import transformers

    diffusers.utils.logging.set_verbosity_error()
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def choose_dtype(device: DeviceInfo, family: str) -> torch.dtype:
    if device.kind == "cpu":
        return torch.float32
    if family == "flux" and device.bf16:
        return torch.bfloat16  # FLUX was trained in bf16; fp16 overflows in its blocks
    return torch.float16


def _has_variant(folder: Path, variant: str) -> bool:
    return any(f".{variant}." in path.name for path in folder.rglob("*.safetensors"))


def load_pipeline(
    located: LocatedModel,
    device: DeviceInfo,
    plan: MemoryPlan,
    *,
    quantize: str = "none",
    loras: tuple[LoraSpec, ...] = (),
    compile_denoiser: bool = False,
    cancel: CancelToken | None = None,
    likeness: LikenessPlan | None = None,
) -> Any:
    """Load, adapt, quantize and place a pipeline. Cancel is honoured between these
    steps (each can take seconds to minutes on a large model) by raising
    LoadCancelled, which the renderer turns into a cancelled result."""
    import diffusers

    _stop_if_cancelled(cancel)

    quiet_libraries()
    family = located.family
    cls = getattr(diffusers, pipeline_class(likeness, PIPELINE_CLASSES[family]))
    dtype = choose_dtype(device, family)
    kwargs: dict[str, Any] = {"dtype": dtype, "local_files_only": True}
    spec = located.spec
    if spec and spec.variant and _has_variant(located.path, spec.variant):
        kwargs["variant"] = spec.variant
    if family == "sd":
        kwargs.update(safety_checker=None, requires_safety_checker=False)
    kwargs.update(extra_components(likeness, dtype))  # the ControlNet, if any
    try:
        pipe = cls.from_pretrained(str(located.path), **kwargs)
    except PhotoFluxError:
        raise
    except Exception as exc:
        if is_oom(exc) or is_transient(exc):
            raise
        raise _damaged(located, exc) from exc
    if spec and spec.scheduler:
        pipe.scheduler = getattr(diffusers, spec.scheduler).from_config(pipe.scheduler.config)
    _stop_if_cancelled(cancel)
    attach_ip_adapter(pipe, likeness, located.label)
    _load_loras(pipe, located, loras)
    _stop_if_cancelled(cancel)
    quantize_pipeline(pipe, quantize)
    _stop_if_cancelled(cancel)
    apply_plan(pipe, plan, device)
    _stop_if_cancelled(cancel)
    if compile_denoiser:
        # static shapes give the fastest kernels; the renderer pays each new shape's
        # compilation in a visible warm-up step, never inside a render's denoise
        # dynamo keeps 8 compiled shapes per function by default, then silently runs
        # eager: allow one per size a user is likely to render at
        torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 64)
        denoiser = getattr(pipe, "unet", None) or pipe.transformer
        denoiser.compile(backend=COMPILE_BACKEND, fullgraph=False, dynamic=False)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def job_pipeline(base: Any) -> Any:
    """A pipeline over `base`'s weights with its own scheduler (schedulers hold per-run
    state, so concurrent jobs must not share one). Not `from_pipe`: given no dtype it
    casts every shared module to float32, which doubles a GPU's fp16 weights on every
    render and fails on quanto's quantized weights (they refuse any cast, and once
    torch.compile guards them they cannot even be swapped for themselves)."""
    _, optional = base._get_signature_keys(base)
    options = {name: base.config[name] for name in optional if name in base.config}
    scheduler = type(base.scheduler).from_config(base.scheduler.config)
    pipe = type(base)(**{**base.components, "scheduler": scheduler}, **options)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _damaged(located: LocatedModel, exc: Exception) -> PhotoFluxError:
    if located.spec is not None:
        hint = (
            f"It may be incomplete: run `photoflux models download {located.spec.id}` again "
            f"(it resumes), or delete {located.path} and download it afresh."
        )
    else:
        hint = "Check the folder is a complete diffusers model (save_pretrained output)."
    reason = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
    return model_missing(
        f"The model at {located.path} could not be loaded: {reason}",
        hint,
        gui_hint="It may be incomplete: download it again in the model manager (it resumes).",
    )


def _lora_mismatch(lora: LoraSpec, located: LocatedModel, why: str) -> PhotoFluxError:
    return bad_input(
        f"The LoRA {lora.path} does not fit this model ({located.label}): {why.rstrip(' .')}.",
        f"Use a LoRA trained for this {located.family.upper()} model, or drop --lora.",
        gui_hint=f"Choose a LoRA trained for this {located.family.upper()} model, or clear it.",
    )


def _load_loras(pipe: Any, located: LocatedModel, loras: tuple[LoraSpec, ...]) -> None:
    names: list[str] = []
    weights: list[float] = []
    bundled = located.path / LORA_SUBFOLDER
    if located.spec and located.spec.lora_hub_id and bundled.is_dir():
        pipe.load_lora_weights(str(bundled), adapter_name="bundled")
        names.append("bundled")
        weights.append(1.0)
    for lora in loras:
        name = adapter_name(lora.path)
        if name in names:
            continue  # the same file twice: loaded once, its weights add up per render
        try:
            pipe.load_lora_weights(lora.path, adapter_name=name)
        except (OSError, ValueError, KeyError, RuntimeError, json.JSONDecodeError) as exc:
            raise _lora_mismatch(lora, located, str(exc).splitlines()[0][:200]) from exc
        loaded = {adapter for adapters in pipe.get_list_adapters().values() for adapter in adapters}
        if name not in loaded:  # diffusers skips a LoRA whose keys match no layer
            raise _lora_mismatch(lora, located, "none of its layers exist in this model")
        names.append(name)
        weights.append(lora.weight)
    if names:
        pipe.set_adapters(names, adapter_weights=weights)


# set_adapters changes modules that every job on a cached pipeline shares (from_pipe
# copies only the pipeline object): one job at a time per denoiser while weights apply
_ADAPTER_LOCKS: weakref.WeakKeyDictionary[Any, threading.Lock] = weakref.WeakKeyDictionary()
_ADAPTER_LOCKS_GUARD = threading.Lock()


def _adapter_lock(pipe: Any) -> threading.Lock:
    denoiser = getattr(pipe, "unet", None) or pipe.transformer
    with _ADAPTER_LOCKS_GUARD:
        return _ADAPTER_LOCKS.setdefault(denoiser, threading.Lock())


@contextmanager
def lora_weights_applied(pipe: Any, loras: tuple[LoraSpec, ...]) -> Iterator[None]:
    """Hold this render's LoRA weights on the pipeline while the body runs."""
    if not loras:
        yield  # only the bundled adapter, if any: set to 1.0 once at load
        return
    weights: dict[str, float] = {}
    loaded = {adapter for adapters in pipe.get_list_adapters().values() for adapter in adapters}
    if "bundled" in loaded:
        weights["bundled"] = 1.0
    for lora in loras:
        name = adapter_name(lora.path)
        weights[name] = weights.get(name, 0.0) + lora.weight
    with _adapter_lock(pipe):
        pipe.set_adapters(list(weights), adapter_weights=list(weights.values()))
        yield
