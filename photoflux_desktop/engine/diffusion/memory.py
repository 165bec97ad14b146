"""Applying memory plans to a pipeline, and recognising and recovering from OOM."""

from __future__ import annotations

import errno
import gc
from typing import Any

import torch

from photoflux_desktop.engine.devices import DeviceInfo, MemoryPlan
from photoflux_desktop.engine.logging_setup import get_logger

log = get_logger("photoflux.memory")

_OOM_MARKERS = (
    "out of memory",
    "cublas_status_alloc_failed",
    "cudnn_status_alloc_failed",
    "mps backend out of memory",
)
_TRANSIENT_ERRNOS = {errno.EAGAIN, errno.EINTR, errno.EIO, errno.EBUSY}


def is_oom(exc: BaseException) -> bool:
    if isinstance(exc, torch.OutOfMemoryError | MemoryError):
        return True
    return isinstance(exc, RuntimeError) and any(m in str(exc).lower() for m in _OOM_MARKERS)


def is_transient(exc: BaseException) -> bool:
    """Errors worth one more try as they are: a busy disk, a flaky network drive."""
    if isinstance(exc, TimeoutError | ConnectionError):
        return True
    return isinstance(exc, OSError) and exc.errno in _TRANSIENT_ERRNOS


def free_memory(collect: bool = True) -> None:
    """Return cached accelerator memory; `collect` also runs a full GC (GIL-heavy)."""
    if collect:
        gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.ipc_collect()
    mps = getattr(torch, "mps", None)
    if mps is not None and torch.backends.mps.is_available():
        mps.empty_cache()


def execution_device(pipe: Any, fallback: str) -> str:
    """Where the pipeline computes. Under accelerate's offload the weights read `cpu`
    (model offload) or `meta` (sequential), so the VAE's device says nothing; diffusers'
    `_execution_device` follows the offload hooks to the GPU they run on."""
    try:
        found = torch.device(getattr(pipe, "_execution_device", fallback))
    except (RuntimeError, TypeError, ValueError):
        found = torch.device(fallback)
    if found.type == "meta":
        found = torch.device(fallback)
    if found.type == "cpu":
        return "cpu"  # offload hooks say "cpu:0": one CPU, one cache entry
    return str(found)


def apply_plan(pipe: Any, plan: MemoryPlan, device: DeviceInfo) -> None:
    if plan is MemoryPlan.OFFLOAD:
        pipe.enable_model_cpu_offload(device=device.torch_device)
    elif plan is MemoryPlan.SEQUENTIAL:
        pipe.enable_sequential_cpu_offload(device=device.torch_device)
    else:
        pipe.to(device.torch_device)
    if plan is not MemoryPlan.FULL:
        _enable_slicing_and_tiling(pipe)


def _enable_slicing_and_tiling(pipe: Any) -> None:
    # not every architecture supports every trick (FLUX has no attention slicing)
    for name in ("enable_attention_slicing",):
        method = getattr(pipe, name, None)
        if method is not None:
            try:
                method()
            except (AttributeError, NotImplementedError, ValueError) as exc:
                log.info("memory_trick_unavailable", trick=name, reason=str(exc))
    vae = getattr(pipe, "vae", None)
    for name in ("enable_tiling", "enable_slicing"):
        method = getattr(vae, name, None)
        if method is not None:
            method()


def weights_bytes(pipe: Any) -> int:
    """Bytes held by every model's state (quantized weights counted as stored)."""
    total = 0
    for component in pipe.components.values():
        if isinstance(component, torch.nn.Module):
            total += sum(
                t.numel() * t.element_size()
                for t in component.state_dict().values()
                if isinstance(t, torch.Tensor)
            )
    return total
