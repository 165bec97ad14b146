"""The safety step after every render: screen the photo and the result for NSFW
content and, when either is flagged, blur and label the result (engine/checks/censor).

Runs after the quality checks so they measure the real render; the checks' reasons
travel in the result, `--json` and the file's metadata, so a blurred file says why.
"""

from __future__ import annotations

from dataclasses import replace

from photoflux_desktop.engine.checks import CheckResult
from photoflux_desktop.engine.checks.censor import blur_and_label
from photoflux_desktop.engine.checks.nsfw import NsfwPolicy, screen
from photoflux_desktop.engine.request import RenderRequest, RenderResult, Status

BLURRED_NOTE = "Sensitive content was found, so the result is blurred and labelled."


def with_safety_checks(
    result: RenderResult, request: RenderRequest, policy: NsfwPolicy | None = None
) -> RenderResult:
    """`result` with "nsfw_input" and "nsfw_output" checks; blurred when flagged."""
    if result.status is not Status.COMPLETED or result.image is None:
        return result
    checks = [
        screen(request.image, "nsfw_input", policy),
        screen(result.image, "nsfw_output", policy),
    ]
    flagged = [check for check in checks if not check.passed and check.value is not None]
    if not flagged:
        return replace(result, checks=result.checks + tuple(c.to_dict() for c in checks))
    checks = [_blurred(check) if check in flagged else check for check in checks]
    return replace(
        result,
        image=blur_and_label(result.image),
        checks=result.checks + tuple(c.to_dict() for c in checks),
        notes=(*result.notes, BLURRED_NOTE),
    )


def _blurred(check: CheckResult) -> CheckResult:
    return replace(check, reason=f"{check.reason} The result was blurred.")
