"""The checks that can run on a lone image, with no source photo (`photoflux check DIR`).

Blur and "face kept" compare with the photo a render came from, so they cannot run here;
the others judge the image on its own. The quality checks are held to a neutral stand-in
for the source (mid-grey mean, some spread, nothing clipped), so only the image decides.
Checks from other families that need only the image (NSFW screening) join through
`LONE_CHECKS`; the style check needs the style id, which `style_check` takes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
from PIL import Image

from photoflux_desktop.engine.checks import CheckResult, quality, timed
from photoflux_desktop.engine.checks.nsfw import screen_output
from photoflux_desktop.engine.checks.style import check_style_consistency
from photoflux_desktop.engine.checks.style_expect import expectations_for

# a source that never excuses a result: mean 128 (well exposed), std 28 (not blank),
# no pixel at either end (nothing clipped)
_NEUTRAL_SOURCE = np.array([[100.0, 156.0]], dtype=np.float32)

LoneCheck = Callable[[Image.Image], CheckResult]
# further image-only checks join here: the NSFW screen (settings' policy)
LONE_CHECKS: list[LoneCheck] = [screen_output]


def lone_checks(
    image: Image.Image, style_id: str | None, backend: str, strength: float | None = None
) -> list[CheckResult]:
    """Every check that needs only `image` (and the style its metadata names)."""
    grey = quality._grey(image)
    expect = expectations_for(style_id, backend)
    results = [
        timed(quality.check_finite, image),
        timed(quality.check_black_frame, grey),
        timed(quality.check_blank, grey, _NEUTRAL_SOURCE),
        timed(quality.check_exposure, grey, _NEUTRAL_SOURCE, expect),
        _without_source(timed(quality.check_clipping, grey, _NEUTRAL_SOURCE, expect)),
    ]
    results += [timed(check, image) for check in LONE_CHECKS]
    results.append(timed(check_style_consistency, image, style_id, backend, None, strength))
    return results


def _without_source(result: CheckResult) -> CheckResult:
    """The clipping reason names the photo's share, which a lone image does not have."""
    if result.passed or result.value is None:
        return result
    return replace(
        result, reason=f"{result.value:.0%} of pixels are crushed to black or blown to white."
    )
