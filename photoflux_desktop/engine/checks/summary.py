"""Short summaries of the checks for the render result and `photoflux render --json`.

Kept free of numpy and dlib: the request module imports it lazily for `summary()`.
"""

from __future__ import annotations

from typing import Any

NO_FACE_IN_PHOTO = "no face in the photo"


def likeness_summary(
    checks: tuple[dict[str, Any], ...] | list[dict[str, Any]], attempts: Any = None
) -> dict[str, Any] | None:
    """{score, passed, face_in_photo, face_in_result, reason[, attempts]} from the
    "likeness" check, or None when it did not run (a cancelled render, an older record).
    Only the score travels: descriptors never leave the check."""
    check = next((item for item in checks if item.get("name") == "likeness"), None)
    if check is None:
        return None
    face_in_photo: bool | None = True  # None: not looked for (no identity model)
    face_in_result: bool | None = check.get("value") is not None
    if check.get("skipped"):
        face_in_photo = False if check.get("reason") == NO_FACE_IN_PHOTO else None
        face_in_result = None
    summary: dict[str, Any] = {
        "score": check.get("value"),
        "passed": bool(check.get("passed")),
        "threshold": check.get("threshold"),
        "face_in_photo": face_in_photo,
        "face_in_result": face_in_result,
        "reason": check.get("reason", ""),
    }
    if attempts:
        summary["attempts"] = list(attempts)
    return summary
