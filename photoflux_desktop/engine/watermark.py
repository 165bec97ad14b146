"""Watermarks: an invisible one (DWT-DCT-SVD, `dwt_dct_svd`) and an optional visible one.

The invisible mark carries a fixed 48-bit PhotoFlux signature. A random image matches
about half the bits; we call it detected at >= 44 of 48 (chance ~1e-9), which still
survives JPEG at quality 75 in our tests. An image is marked once: one that already
carries the mark is left as it is, since marking again only adds distortion.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from photoflux_desktop.engine import dwt_dct_svd
from photoflux_desktop.engine.errors import PhotoFluxError, bad_input

SIGNATURE = b"PFLX\x01\x7e"
SIGNATURE_BITS = len(SIGNATURE) * 8
DETECTION_THRESHOLD = 44 / 48
MAX_LOGO_PIXELS = 4096 * 4096  # a logo is small; this refuses a decompression bomb
MIN_PIXELS = 256 * 256  # below this too few blocks vote for each bit to be reliable
_SIGNATURE_BITS = np.unpackbits(np.frombuffer(SIGNATURE, dtype=np.uint8))


class Corner(StrEnum):
    TOP_LEFT = "top-left"
    TOP_RIGHT = "top-right"
    BOTTOM_LEFT = "bottom-left"
    BOTTOM_RIGHT = "bottom-right"


@dataclass(frozen=True)
class VisibleWatermark:
    text: str = "PhotoFlux"
    logo: Path | None = None
    corner: Corner = Corner.BOTTOM_RIGHT
    opacity: float = 0.6
    scale: float = 0.18  # of the image width


@dataclass(frozen=True)
class WatermarkCheck:
    checked: bool
    detected: bool
    bit_accuracy: float | None
    reason: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "checked": self.checked,
            "detected": self.detected,
            "bit_accuracy": self.bit_accuracy,
            "reason": self.reason,
        }


def _rgb_array(image: Image.Image) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(image.convert("RGB")))


def embed_invisible(image: Image.Image) -> tuple[Image.Image, WatermarkCheck]:
    """Embed the signature and read it back, so the caller knows whether it took.

    An image that already carries the signature comes back unchanged.
    """
    width, height = image.size
    if width * height < MIN_PIXELS:
        return image, WatermarkCheck(False, False, None, "image smaller than 256×256")
    rgb = _rgb_array(image)
    present = _check(rgb)
    if present.detected:
        return image.convert("RGB"), replace(present, reason="already marked; not marked again")
    marked = dwt_dct_svd.embed(rgb, _SIGNATURE_BITS)
    return Image.fromarray(marked), _check(marked)


def detect_invisible(image: Image.Image) -> WatermarkCheck:
    width, height = image.size
    if width * height < MIN_PIXELS:
        return WatermarkCheck(False, False, None, "image smaller than 256×256")
    return _check(_rgb_array(image))


def _check(rgb: np.ndarray) -> WatermarkCheck:
    found = dwt_dct_svd.read(rgb, SIGNATURE_BITS)
    accuracy = float((found == _SIGNATURE_BITS).mean())
    return WatermarkCheck(True, accuracy >= DETECTION_THRESHOLD, round(accuracy, 4))


def apply_visible(image: Image.Image, mark: VisibleWatermark) -> Image.Image:
    """Composite a text or logo mark into one corner at the given opacity."""
    base = image.convert("RGBA")
    target_width = max(24, int(base.width * mark.scale))
    stamp = (
        _logo_stamp(mark.logo, target_width) if mark.logo else _text_stamp(mark.text, target_width)
    )
    alpha = stamp.getchannel("A").point(lambda a: int(a * max(0.0, min(1.0, mark.opacity))))
    stamp.putalpha(alpha)
    margin = max(4, base.width // 50)
    x = (
        margin
        if mark.corner in (Corner.TOP_LEFT, Corner.BOTTOM_LEFT)
        else base.width - stamp.width - margin
    )
    y = (
        margin
        if mark.corner in (Corner.TOP_LEFT, Corner.TOP_RIGHT)
        else base.height - stamp.height - margin
    )
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    layer.paste(stamp, (max(0, x), max(0, y)))
    return Image.alpha_composite(base, layer).convert("RGB")


def _text_stamp(text: str, width: int) -> Image.Image:
    size = 12
    font = ImageFont.load_default(size=size)
    # grow the font until the text spans the target width
    while size < 400:
        box = font.getbbox(text)
        if box[2] - box[0] >= width:
            break
        size += 2
        font = ImageFont.load_default(size=size)
    left, top, right, bottom = font.getbbox(text)
    pad = max(2, size // 6)
    stamp = Image.new("RGBA", (right - left + 2 * pad, bottom - top + 2 * pad), (0, 0, 0, 0))
    draw = ImageDraw.Draw(stamp)
    origin = (pad - left, pad - top)
    draw.text((origin[0] + 1, origin[1] + 1), text, font=font, fill=(0, 0, 0, 160))
    draw.text(origin, text, font=font, fill=(255, 255, 255, 255))
    return stamp


def load_logo(logo: Path) -> Image.Image:
    """The logo as RGBA, or a bad-input error saying why it cannot be a logo.

    Callers check it before rendering, so a wrong file costs no render time."""
    hint = "Pass a PNG logo (transparency is kept), at most 4096×4096 px."
    if not logo.is_file():  # also refuses a FIFO, which would block the open
        raise bad_input(f"Watermark logo {logo} is not a file.", hint)
    try:
        with Image.open(logo) as opened:
            if opened.width * opened.height > MAX_LOGO_PIXELS:
                raise bad_input(f"Watermark logo {logo} is too large.", hint)
            return opened.convert("RGBA")
    except PhotoFluxError:
        raise
    except Exception as exc:  # not an image, or damaged: a decoder may raise anything
        raise bad_input(f"Watermark logo {logo} is not a readable image.", hint) from exc


def _logo_stamp(logo: Path, width: int) -> Image.Image:
    stamp = load_logo(logo)
    height = max(1, round(stamp.height * width / stamp.width))
    return stamp.resize((width, height), Image.Resampling.LANCZOS)
