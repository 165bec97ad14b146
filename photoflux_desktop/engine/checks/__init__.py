"""Checks run on every finished render: one module per family (quality.py, ...).

Each check returns a `CheckResult`: plain data that goes into the render result,
`photoflux render --json` (under "checks") and the output's provenance metadata.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    value: float | None  # what was measured (None: nothing to measure, e.g. skipped)
    threshold: float | None  # the limit `value` was held to
    reason: str  # one sentence a user can read, for a pass as well as a failure
    time_s: float = 0.0
    skipped: bool = False  # the check could not run here (e.g. no face detector)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["value"] = None if self.value is None else round(float(self.value), 4)
        data["time_s"] = round(self.time_s, 5)
        return data


def timed(check: Callable[..., CheckResult], *args: Any) -> CheckResult:
    """Run one check and stamp how long it took."""
    started = time.perf_counter()
    result = check(*args)
    return CheckResult(**{**asdict(result), "time_s": time.perf_counter() - started})
