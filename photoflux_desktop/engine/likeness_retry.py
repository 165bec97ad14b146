"""--min-likeness: render again with stronger conditioning while the likeness is low.

Each try is a full render plus checks; the next one binds harder (engine/likeness.py's
`stronger_likeness`): at most `MAX_TRIES` renders, every try reported with its score and
parameters under the result's `report["likeness_attempts"]`, and the best one kept.
Only a photo with a face is tried again: without one there is no likeness to keep.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from photoflux_desktop.engine.likeness import MAX_TRIES, stronger_likeness
from photoflux_desktop.engine.request import RenderRequest, RenderResult, Status

RenderOnce = Callable[[RenderRequest], RenderResult]  # one render, checks included


def likeness_check(result: RenderResult) -> dict[str, Any] | None:
    return next((check for check in result.checks if check.get("name") == "likeness"), None)


def _score(result: RenderResult) -> float | None:
    check = likeness_check(result)
    return None if check is None else check.get("value")


def _wants_another(result: RenderResult, minimum: float) -> bool:
    """A finished render of a face photo whose likeness is below `minimum`."""
    check = likeness_check(result)
    if result.status is not Status.COMPLETED or check is None or check.get("skipped"):
        return False  # cancelled, no face in the photo, or no identity model
    score = check.get("value")
    return score is None or score < minimum  # None: the face was lost


def _attempt_record(number: int, result: RenderResult, minimum: float) -> dict[str, Any]:
    ran = result.parameters
    score = _score(result)
    return {
        "attempt": number,
        "score": score,
        "reached": score is not None and score >= minimum,
        "likeness": ran.likeness,
        "likeness_scale": ran.likeness_scale,
        "strength": ran.strength,
        "seed": ran.seed,
    }


def render_with_min_likeness(
    render_once: RenderOnce,
    request: RenderRequest,
    family: str | None,
    models_dir: Path | None = None,
) -> RenderResult:
    """`render_once(request)`, tried again while its likeness is below the request's
    `min_likeness` (when set); the best try comes back, with every try reported."""
    result = render_once(request)
    minimum = request.min_likeness
    if minimum is None or not _wants_another(result, minimum):
        return result
    tries = [result]
    current = request
    while len(tries) < MAX_TRIES and _wants_another(tries[-1], minimum):
        following = stronger_likeness(current, tries[-1].parameters, family, models_dir)
        if following is None:
            break  # already as strong as it goes
        current = following
        attempt = render_once(current)
        if attempt.status is not Status.COMPLETED:
            return attempt  # cancelled: nothing more to try
        tries.append(attempt)
    return _best(tries, minimum)


def _best(tries: list[RenderResult], minimum: float) -> RenderResult:
    records = [_attempt_record(number, item, minimum) for number, item in enumerate(tries, 1)]
    best_index = max(range(len(tries)), key=lambda i: (_score(tries[i]) or -1.0, -i))
    best = tries[best_index]
    score = _score(best)
    shown = "no face" if score is None else f"{score:.2f}"
    if score is not None and score >= minimum:
        note = (
            f"Likeness reached {shown} (at least {minimum:.2f} asked) on try "
            f"{best_index + 1} of {len(tries)}, with stronger likeness control."
        )
    else:
        note = (
            f"Likeness stayed below {minimum:.2f} after {len(tries)} tries; the best "
            f"(try {best_index + 1}, {shown}) was kept."
        )
    report = {**best.report, "likeness_attempts": records, "likeness_best_attempt": best_index + 1}
    return replace(best, report=report, notes=(*best.notes, note))
