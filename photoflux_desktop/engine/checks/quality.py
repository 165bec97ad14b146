"""Quality checks on a finished render, measured against its input photo.

Cheap by design (a few milliseconds each at 1024 px, bench/checks.py): both images are
reduced to grey at `WORK_SIDE` first. Thresholds are relative to the input where the
input itself could explain the value (a dark photo may give a dark result).

- finite:     non-finite pixels (a float image with NaN/inf, as an fp16 VAE overflow gives)
- black_frame: an (almost) all-black frame, which is what such a NaN decode becomes in 8 bit
- blank:      a near-uniform image (no structure left)
- blur:       variance of the Laplacian, relative to the input's
- exposure:   mean brightness far darker or brighter than a usable photo
- clipping:   a large share of pixels crushed to black or blown to white
- face_kept:  a face found in the input is still found in the output

Generated from text (no photo), an image is held to the same limits with nothing to
excuse them; blur and face_kept, which compare with the photo, are skipped.

Exposure, clipping and face_kept widen to what the style's own reference renders do
(style_expect.py): a pencil sketch is white paper by design, not a blown exposure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from photoflux_desktop.engine.checks import CheckResult, timed
from photoflux_desktop.engine.checks.faces import face_detector
from photoflux_desktop.engine.lazy import opencv

if TYPE_CHECKING:
    from photoflux_desktop.engine.checks.style_expect import StyleExpectations

WORK_SIDE = 512
BLANK_STD = 3.0  # grey levels (0-255): below this the image is practically one colour
BLACK_MEAN = 4.0  # grey levels: the mean of a black frame
BLUR_RATIO = 0.05  # output sharpness below 5 % of the input's is a blurred result
EXPOSURE_RANGE = (0.06 * 255, 0.94 * 255)  # mean grey outside this is badly exposed
CLIPPED_SHARE = 0.30  # more than 30 % of pixels at 0-2 or 253-255 ...
CLIPPED_GAIN = 0.15  # ... and at least 15 points more than the input had
STYLE_CLIPPED_MARGIN = 0.05  # a style's own worst clipping, plus this, is still its look
STYLE_MEAN_MARGIN = 10.0  # grey levels beyond the darkest/brightest reference render
NO_PHOTO = "Skipped: generated from text, so there is no photo to compare with."


def _pixels(image: Image.Image | np.ndarray) -> np.ndarray:
    """HxWx3 float32 in 0-255; a float array is taken as 0-1 (a decoder's output)."""
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"), dtype=np.float32)
    raw = np.asarray(image)
    array = raw.astype(np.float32)
    finite = array[np.isfinite(array)]
    unit_range = raw.dtype.kind == "f" and (finite.size == 0 or float(finite.max()) <= 1.0)
    return array * 255.0 if unit_range else array


def _grey(image: Image.Image | np.ndarray) -> np.ndarray:
    cv2 = opencv()  # through the engine's lazy door: the window imports this module

    if isinstance(image, Image.Image):  # 8 bit already: no float copy of the full frame
        rgb = np.asarray(image.convert("RGB"))
    else:
        pixels = np.nan_to_num(_pixels(image), nan=0.0, posinf=255.0, neginf=0.0)
        rgb = np.clip(pixels, 0, 255).astype(np.uint8)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    scale = WORK_SIDE / max(grey.shape)
    if scale < 1:
        size = (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return grey.astype(np.float32)


def check_finite(output: Image.Image | np.ndarray) -> CheckResult:
    if isinstance(output, Image.Image) and output.mode in ("RGB", "RGBA", "L"):
        return CheckResult("finite", True, 0.0, 0.0, "Every pixel value is a number (8 bit).")
    pixels = _pixels(output)
    bad = float(np.count_nonzero(~np.isfinite(pixels))) / max(1, pixels.size)
    reason = (
        f"{bad:.1%} of the pixel values are not numbers (NaN/inf): the decoder overflowed."
        if bad
        else "Every pixel value is a number."
    )
    return CheckResult("finite", bad == 0.0, bad, 0.0, reason)


def check_black_frame(output: np.ndarray) -> CheckResult:
    mean = float(output.mean())
    passed = mean >= BLACK_MEAN or float(output.max()) > 4 * BLACK_MEAN
    reason = (
        "The image is not black."
        if passed
        else "The image is black (what a NaN decode, a known fp16 VAE failure, looks like)."
    )
    return CheckResult("black_frame", passed, mean, BLACK_MEAN, reason)


def check_blank(output: np.ndarray, source: np.ndarray | None) -> CheckResult:
    spread = float(output.std())
    passed = spread >= BLANK_STD or (source is not None and float(source.std()) < BLANK_STD)
    reason = "The image has structure." if passed else "The image is blank (nearly one colour)."
    return CheckResult("blank", passed, spread, BLANK_STD, reason)


def _sharpness(grey: np.ndarray) -> float:
    cv2 = opencv()  # through the engine's lazy door: the window imports this module

    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


def check_blur(output: np.ndarray, source: np.ndarray | None) -> CheckResult:
    if source is None:
        return CheckResult("blur", True, None, BLUR_RATIO, NO_PHOTO, skipped=True)
    reference = _sharpness(source)
    if reference < 1e-3:  # a flat input has no sharpness to keep
        return CheckResult("blur", True, None, BLUR_RATIO, "The photo itself has no detail.")
    ratio = _sharpness(output) / reference
    passed = ratio >= BLUR_RATIO
    reason = (
        f"Sharpness is {ratio:.0%} of the photo's."
        if passed
        else f"The image is blurred: sharpness is {ratio:.1%} of the photo's."
    )
    return CheckResult("blur", passed, ratio, BLUR_RATIO, reason)


def check_exposure(
    output: np.ndarray, source: np.ndarray | None, expect: StyleExpectations | None = None
) -> CheckResult:
    low, high = EXPOSURE_RANGE
    if expect is not None and expect.mean_range is not None:
        low = min(low, expect.mean_range[0] - STYLE_MEAN_MARGIN)
        high = max(high, expect.mean_range[1] + STYLE_MEAN_MARGIN)
    # no photo: nothing can excuse a dark or bright result
    source_mean = float(source.mean()) if source is not None else (low + high) / 2
    mean = float(output.mean())
    too_dark = mean < low and source_mean >= low
    too_bright = mean > high and source_mean <= high
    passed = not (too_dark or too_bright)
    if passed:
        reason = f"Mean brightness {mean / 255:.0%} is usable."
    else:
        word = "dark" if too_dark else "bright"
        reason = f"The image is far too {word} (mean brightness {mean / 255:.0%})."
    return CheckResult("exposure", passed, mean / 255, (low if too_dark else high) / 255, reason)


def _clipped(grey: np.ndarray) -> float:
    return float(np.count_nonzero((grey <= 2) | (grey >= 253))) / max(1, grey.size)


def check_clipping(
    output: np.ndarray, source: np.ndarray | None, expect: StyleExpectations | None = None
) -> CheckResult:
    share = _clipped(output)
    source_share = _clipped(source) if source is not None else 0.0
    limit = CLIPPED_SHARE
    if expect is not None and expect.clipped_max is not None:
        limit = max(limit, expect.clipped_max + STYLE_CLIPPED_MARGIN)
    passed = share <= limit or share - source_share < CLIPPED_GAIN
    if not passed:
        had = f" (the photo had {source_share:.0%})" if source is not None else ""
        reason = f"{share:.0%} of pixels are crushed to black or blown to white{had}."
    elif share > CLIPPED_SHARE and limit > CLIPPED_SHARE:
        reason = (
            f"{share:.0%} of pixels are pure black or white, as this style's own renders "
            f"are (up to {expect.clipped_max:.0%})."  # type: ignore[union-attr]
        )
    else:
        reason = f"{share:.0%} of pixels are crushed or blown."
    return CheckResult("clipping", passed, share, limit, reason)


def check_face_kept(
    output: Image.Image, source: Image.Image | None, expect: StyleExpectations | None = None
) -> CheckResult:
    if source is None:
        return CheckResult("face_kept", True, None, None, NO_PHOTO, skipped=True)
    detector = face_detector()
    if detector is None:
        return CheckResult(
            "face_kept", True, None, None, "Skipped: no face detector is installed.", skipped=True
        )
    in_faces = detector.count(source)
    if in_faces == 0:
        return CheckResult("face_kept", True, 0, 1, "No face in the photo, so none to keep.")
    out_faces = detector.count(output)
    if out_faces == 0 and expect is not None and expect.faces_unreliable:
        return CheckResult(
            "face_kept",
            True,
            0,
            1,
            "Not judged: this style draws faces the face detector rarely recognises (found "
            f"in {expect.face_kept_rate:.0%} of its reference renders), so no face found "
            "says nothing about this render.",
            skipped=True,
        )
    passed = out_faces > 0
    reason = (
        f"Faces found: {in_faces} in the photo, {out_faces} in the result."
        if passed
        else f"The photo has {in_faces} face(s) and the result has none: the face was lost."
    )
    return CheckResult("face_kept", passed, out_faces, 1, reason)


def quality_checks(
    output: Image.Image | np.ndarray,
    source: Image.Image | None,
    expect: StyleExpectations | None = None,
) -> list[CheckResult]:
    """Every quality check of `output` against the photo it came from; `expect` (the
    style's reference renders, style_expect.py) widens the limits that style breaks."""
    results = [timed(check_finite, output)]
    out_grey = _grey(output)
    in_grey = _grey(source) if source is not None else None
    results += [
        timed(check_black_frame, out_grey),
        timed(check_blank, out_grey, in_grey),
        timed(check_blur, out_grey, in_grey),
        timed(check_exposure, out_grey, in_grey, expect),
        timed(check_clipping, out_grey, in_grey, expect),
    ]
    out_image = output if isinstance(output, Image.Image) else _as_image(output)
    results.append(timed(check_face_kept, out_image, source, expect))
    return results


def _as_image(array: Any) -> Image.Image:
    pixels = np.nan_to_num(_pixels(array), nan=0.0, posinf=255.0, neginf=0.0)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
