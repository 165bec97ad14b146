"""Loaded pipelines kept for reuse, bounded by the memory their weights hold."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from photoflux_desktop.engine.diffusion.loader import PipelineKey
from photoflux_desktop.engine.diffusion.memory import free_memory, weights_bytes


class PipelineCache:
    """LRU of loaded pipelines; loading the same key twice at once loads it once."""

    def __init__(self, budget_bytes: int, max_entries: int = 3) -> None:
        self.budget_bytes = budget_bytes
        self.max_entries = max_entries
        self._entries: OrderedDict[PipelineKey, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.loads = 0
        self.hits = 0

    def get(self, key: PipelineKey, load: Callable[[], Any]) -> tuple[Any, bool, int]:
        """The pipeline for `key`, whether it came from the cache, and its weight bytes."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                pipe, size = self._entries[key]
                return pipe, True, size
            pipe = load()
            size = weights_bytes(pipe)
            self._make_room(size)
            self._entries[key] = (pipe, size)
            self.loads += 1
            return pipe, False, size

    def _make_room(self, incoming: int) -> None:
        evicted = False
        while self._entries and (
            len(self._entries) >= self.max_entries or self.used_bytes + incoming > self.budget_bytes
        ):
            self._entries.popitem(last=False)
            evicted = True
        if evicted:
            # a full gc.collect() holds the GIL for ~250 ms with a pipeline in memory
            # (bench/ui_stall.py): only pay it when memory was actually released
            free_memory()

    @property
    def used_bytes(self) -> int:
        return sum(size for _, size in self._entries.values())

    def evict(self, predicate: Callable[[PipelineKey], bool]) -> int:
        with self._lock:
            doomed = [key for key in self._entries if predicate(key)]
            for key in doomed:
                del self._entries[key]
        free_memory()
        return len(doomed)

    def clear(self) -> None:
        self.evict(lambda key: True)

    def __len__(self) -> int:
        return len(self._entries)
