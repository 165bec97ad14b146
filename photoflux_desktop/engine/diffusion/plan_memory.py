"""Which memory plan worked last time, per model, device and size class.

A render that ran out of memory on `full` and succeeded on `lowmem` would otherwise
start at `full` again next time, fail again and load the model twice. The plan that
succeeded is kept in a small JSON file in the cache folder, so the next render and the
next start of the program begin there.

Rules (README, "Memory plans"):
- Only renders with `--memory auto` start from a remembered plan; a plan the user named
  is always tried as named.
- An automatic render remembers the plan it succeeded on. A render with a named plan
  remembers only a plan it reached by stepping down after running out of memory: that
  is evidence about this machine, while a named plan that simply worked says nothing
  about the plans above it.
- A remembered plan is used only while the device has no more free memory than when it
  was learnt (plus a margin): after closing other GPU programs the estimate decides again.
- A failure on a remembered plan steps down the ladder as usual and the lower plan is
  remembered in its place.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from photoflux_desktop.engine.devices import DeviceInfo, MemoryPlan
from photoflux_desktop.engine.logging_setup import get_logger
from photoflux_desktop.engine.paths import cache_dir

log = get_logger("photoflux.plan_memory")
FILE_NAME = "memory_plans.json"
_SIZE_CLASSES = (512, 768, 1024, 1536, 2048)
# free memory may wobble by a few hundred MB between renders; more than this is a change
_FREE_MARGIN_GB = 0.5
_FREE_MARGIN_SHARE = 0.1


def size_class(long_side: int) -> str:
    """Bucket a render's long side: plans that fit at 900 px fit at 1000 px."""
    for edge in _SIZE_CLASSES:
        if long_side <= edge:
            return f"<={edge}"
    return f">{_SIZE_CLASSES[-1]}"


@dataclass(frozen=True)
class PlanKey:
    model: str  # the model's folder: ids can be reinstalled elsewhere
    device: str  # the device's name, e.g. "NVIDIA GeForce RTX 3060"
    size: str  # size_class(...)
    quantize: str = "none"  # int8 weights need far less memory than bf16 ones

    def text(self) -> str:
        return "|".join((self.model, self.device, self.size, str(self.quantize)))


class PlanMemory:
    """Remembered plans in one JSON file; every write replaces the file atomically."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else cache_dir() / FILE_NAME
        self._lock = threading.Lock()

    def recall(self, key: PlanKey, device: DeviceInfo) -> MemoryPlan | None:
        entry = self._read().get(key.text())
        if not isinstance(entry, dict):
            return None
        try:
            plan = MemoryPlan(entry.get("plan"))
        except ValueError:
            return None
        learnt_free = entry.get("free_gb")
        if (
            device.free_gb is not None
            and isinstance(learnt_free, int | float)
            and device.free_gb > learnt_free * (1 + _FREE_MARGIN_SHARE) + _FREE_MARGIN_GB
        ):
            return None  # more memory than when it was learnt: estimate afresh
        return plan

    def remember(self, key: PlanKey, plan: MemoryPlan, device: DeviceInfo) -> None:
        with self._lock:
            entries = self._read()
            entry = {"plan": plan.value, "free_gb": device.free_gb}
            if entries.get(key.text()) == entry:
                return  # nothing new: no disk write on every render
            entries[key.text()] = entry
            try:
                self._write(entries)
            except OSError as exc:  # a read-only cache folder costs speed, not the render
                log.warning("plan_memory_not_saved", path=str(self.path), error=str(exc))

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # missing or damaged: start from the estimates
        return data if isinstance(data, dict) else {}

    def _write(self, entries: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".plans-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(entries, stream, indent=1, sort_keys=True)
            os.replace(temp, self.path)  # readers see the old file or the new, never half
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
