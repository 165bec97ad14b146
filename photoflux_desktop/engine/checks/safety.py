"""The safety step after every render: screen the photo and the result for NSFW
content and, when either is flagged, blur and label the result (engine/checks/censor).

Runs after the quality checks so they measure the real render; the checks' reasons
travel in the result, `--json` and the file's metadata, so a blurred file says why.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import replace

from PIL import Image

from photoflux_desktop.engine.checks import CheckResult
from photoflux_desktop.engine.checks.censor import blur_and_label
from photoflux_desktop.engine.checks.nsfw import NsfwPolicy, registrations, screen
from photoflux_desktop.engine.request import RenderRequest, RenderResult, Status

PHOTO_MEMORY = 8  # photos whose screen is remembered (see _screen_photo)
_photo_screens: dict[tuple, CheckResult] = {}
_photo_lock = threading.Lock()
BLURRED_NOTE = "Sensitive content was found, so the result is blurred and labelled."


def with_safety_checks(
    result: RenderResult, request: RenderRequest, policy: NsfwPolicy | None = None
) -> RenderResult:
    """`result` with "nsfw_input" and "nsfw_output" checks; blurred when flagged."""
    if result.status is not Status.COMPLETED or result.image is None:
        return result
    checks = [screen(result.image, "nsfw_output", policy)]
    if request.image is not None:  # generated from text: there is no photo to screen
        checks.insert(0, _screen_photo(request.image, policy))
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


def _screen_photo(image: Image.Image, policy: NsfwPolicy | None) -> CheckResult:
    """The photo's screen, remembered for the last few photos: a batch renders one photo
    in many styles, and each render would otherwise pay the detector again. A failed
    screen (detector error) is not remembered, so the next render tries again."""
    started = time.perf_counter()
    digest = hashlib.blake2b(image.tobytes()).digest()
    key = (policy or NsfwPolicy(), registrations(), image.mode, image.size, digest)
    with _photo_lock:
        known = _photo_screens.get(key)
    if known is not None:
        return replace(known, time_s=time.perf_counter() - started)
    check = screen(image, "nsfw_input", policy)
    if check.value is not None:
        with _photo_lock:
            _photo_screens[key] = check
            while len(_photo_screens) > PHOTO_MEMORY:
                _photo_screens.pop(next(iter(_photo_screens)))
    return check


def _blurred(check: CheckResult) -> CheckResult:
    return replace(check, reason=f"{check.reason} The result was blurred.")
