"""Loaded pipelines kept for reuse, bounded by the memory their weights hold.

Weights live in one of two pools: a GPU's memory (plans `full` and `lowmem` on CUDA)
or system RAM (CPU and MPS renders, and the offload plans, which park weights in RAM).
Each pool has its own budget: device memory minus headroom for activations on a GPU,
half of the RAM otherwise. Keys hold only what needs a reload (loader.PipelineKey):
LoRA weights are applied per render, so changing one never reloads the model.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from photoflux_desktop.engine.devices import DeviceInfo
from photoflux_desktop.engine.diffusion.loader import PipelineKey
from photoflux_desktop.engine.diffusion.memory import free_memory, weights_bytes

GB = 1024**3
RAM_SHARE = 0.5  # the rest belongs to the OS, the app and the render itself
FALLBACK_RAM_BYTES = 8 * GB  # psutil missing: a modest laptop
# activations, the VAE decode and the CUDA context need room beside the weights
VRAM_HEADROOM_GB = 1.5
VRAM_HEADROOM_SHARE = 0.15
_DEVICE_POOL_PLANS = ("full", "lowmem")


def pool_of(key: PipelineKey) -> str:
    """Which memory a cached pipeline's weights occupy while it waits."""
    if key.device.startswith("cuda") and key.plan in _DEVICE_POOL_PLANS:
        return key.device
    return "ram"


def pool_budget(pool: str, device: DeviceInfo | None) -> int:
    if pool != "ram" and device is not None and device.total_gb:
        headroom = max(VRAM_HEADROOM_GB, device.total_gb * VRAM_HEADROOM_SHARE)
        return max(0, int((device.total_gb - headroom) * GB))
    if device is not None and device.ram_total_gb:
        return int(device.ram_total_gb * GB * RAM_SHARE)
    try:
        import psutil

        return int(psutil.virtual_memory().total * RAM_SHARE)
    except ImportError:
        return FALLBACK_RAM_BYTES


class PipelineCache:
    """LRU of loaded pipelines; loading the same key twice at once loads it once.

    `budget_bytes` fixes one budget for every pool (tests, benchmarks); by default each
    pool is budgeted from the DeviceInfo passed to `get`.
    """

    def __init__(self, budget_bytes: int | None = None, max_entries: int = 3) -> None:
        self.budget_bytes = budget_bytes
        self.max_entries = max_entries
        self._entries: OrderedDict[PipelineKey, tuple[Any, int]] = OrderedDict()
        self._lock = threading.RLock()  # loads run under it; they may look in
        self.loads = 0
        self.hits = 0

    def get(
        self,
        key: PipelineKey,
        load: Callable[[], Any],
        device: DeviceInfo | None = None,
        expected_bytes: int = 0,
    ) -> tuple[Any, bool, int]:
        """The pipeline for `key`, whether it came from the cache, and its weight bytes.

        `expected_bytes` (an estimate) makes room before loading, so a new model does not
        have to fit beside the ones it is about to replace."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                pipe, size = self._entries[key]
                return pipe, True, size
            budget = self._budget(key, device)
            self._make_room(key, expected_bytes, budget)
            pipe = load()
            size = weights_bytes(pipe)
            self._make_room(key, size, budget)
            self._entries[key] = (pipe, size)
            self.loads += 1
            return pipe, False, size

    def _budget(self, key: PipelineKey, device: DeviceInfo | None) -> int:
        if self.budget_bytes is not None:
            return self.budget_bytes
        return pool_budget(pool_of(key), device)

    def _make_room(self, key: PipelineKey, incoming: int, budget: int) -> None:
        pool = pool_of(key)
        limit = self.max_entries - 1  # the incoming entry takes one slot
        evicted = False
        while self._entries:
            same_pool = [k for k in self._entries if pool_of(k) == pool]
            over_budget = bool(same_pool) and self.pool_bytes(pool) + incoming > budget
            if over_budget:
                victim = same_pool[0]  # least recently used in the pool that is short
            elif len(self._entries) > limit:
                victim = next(iter(self._entries))
            else:
                break
            del self._entries[victim]
            evicted = True
        if evicted:
            # a full gc.collect() holds the GIL for ~250 ms with a pipeline in memory
            # (bench/ui_stall.py): only pay it when memory was actually released
            free_memory()

    def pool_bytes(self, pool: str) -> int:
        return sum(size for key, (_, size) in self._entries.items() if pool_of(key) == pool)

    @property
    def used_bytes(self) -> int:
        return sum(size for _, size in self._entries.values())

    def cached_keys(self) -> list[PipelineKey]:
        with self._lock:
            return list(self._entries)

    def evict(self, predicate: Callable[[PipelineKey], bool], collect: bool = True) -> int:
        """Drop matching entries; `collect` also frees the memory now (GC + empty cache)."""
        with self._lock:
            doomed = [key for key in self._entries if predicate(key)]
            for key in doomed:
                del self._entries[key]
        if collect:
            free_memory()
        return len(doomed)

    def clear(self) -> None:
        self.evict(lambda key: True)

    def __len__(self) -> int:
        return len(self._entries)
