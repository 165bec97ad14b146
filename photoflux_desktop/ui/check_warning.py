"""After a render: the automatic checks that failed, as one warning in the error banner.

Also the two questions the delivery gates ask of a result's checks (what failed, and
whether sensitive content was flagged), so the desktop export and the studio agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from photoflux_desktop.engine.checks.nsfw import is_flagged
from photoflux_desktop.engine.errors import Error, ErrorKind

# plain names for the checks a user meets (engine/checks); unknown ones keep their name
LABELS = {
    "finite": "Broken pixels",
    "black_frame": "Black image",
    "blank": "Blank image",
    "blur": "Blurred",
    "exposure": "Exposure",
    "clipping": "Too much black or white",
    "face_kept": "Face lost",
    "likeness": "Likeness",
    "nsfw_input": "Sensitive content in the photo",
    "nsfw_output": "Sensitive content in the result",
}


def failed_checks(checks: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The checks that ran and failed (a skipped check is not a failure)."""
    return [c for c in checks if not c.get("passed", True) and not c.get("skipped")]


def flagged(checks: Iterable[dict[str, Any]]) -> bool:
    """Sensitive content was found in the photo or the result."""
    return any(is_flagged(check) for check in checks)


def label(check: dict[str, Any]) -> str:
    name = str(check.get("name", ""))
    return LABELS.get(name, name.replace("_", " ").capitalize())


def check_warning(checks: Iterable[dict[str, Any]]) -> Error | None:
    """One warning naming every failed check with its reason; None when all passed."""
    failed = failed_checks(checks)
    if not failed:
        return None
    count = "1 automatic check" if len(failed) == 1 else f"{len(failed)} automatic checks"
    reasons = " · ".join(f"{label(c)}: {_short(c)}" for c in failed)
    return Error(ErrorKind.BAD_INPUT, f"This result did not pass {count}.", reasons)


def _short(check: dict[str, Any]) -> str:
    """The reason without what the label already says."""
    return str(check.get("reason", "")).removeprefix("Sensitive content: ")


def warn_failed_checks(window: Any, result: Any) -> None:
    """Shows the warning for a finished render (the window's one error banner)."""
    warning = check_warning(getattr(result, "checks", ()))
    if warning is not None:
        window.show_error(warning)
