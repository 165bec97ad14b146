"""Photo intake: bytes from a user become one sRGB RGB working image, or a clear refusal.

The file type is decided from the bytes, never from the name, and Pillow is only ever
allowed to use the decoder for that type (so a mislabelled file cannot reach an exotic
plugin). Before Pillow parses anything, a structural pre-scan bounds the work to what
the first frame needs (`intake_structure`); size limits are checked on the header
before any pixel is decoded.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from photoflux_desktop.engine.errors import PhotoFluxError, bad_input
from photoflux_desktop.engine.intake_colour import has_alpha, to_srgb_rgb
from photoflux_desktop.engine.intake_limits import (
    DEFAULT_LIMITS,
    IntakeLimits,
    check_dimensions,
    not_supported,
    too_large,
)
from photoflux_desktop.engine.intake_read import read_source
from photoflux_desktop.engine.intake_sniff import sniff_decoder, with_article
from photoflux_desktop.engine.intake_structure import Prepared, prepare

__all__ = ["DEFAULT_LIMITS", "IntakeLimits", "Photo", "load_photo"]

# EXIF orientation -> the transposition that makes the stored pixels upright
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Pillow's words for a valid file in a variant it has no decoder for
_UNSUPPORTED_WORDS = ("not supported", "unsupported", "cannot handle", "unknown pixel mode")


@dataclass(frozen=True, eq=False)
class Photo:
    """A decoded photo, upright, sRGB, 8-bit RGB, no alpha, no EXIF carried along."""

    image: Image.Image
    source: str
    format: str
    original_size: tuple[int, int]
    original_mode: str
    frames: int = 1
    had_alpha: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)
    # what the decoder produced: smaller than original_size when a JPEG was decoded
    # at 1/2, 1/4 or 1/8 scale for a small working size
    decoded_size: tuple[int, int] | None = None

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size


def load_photo(
    source: str | Path | bytes,
    max_side: int | None = 1024,
    limits: IntakeLimits = DEFAULT_LIMITS,
) -> Photo:
    """Decode `source` into a working image whose long side is at most `max_side`.

    Raises PhotoFluxError(BAD_INPUT) with a message a user can act on for anything
    that is not a usable photo.
    """
    name, data = read_source(source, limits)
    decoder = sniff_decoder(name, data)
    prepared = prepare(decoder, name, data, limits)
    notes: list[str] = []
    im, frames, orientation, file_size = _decode(
        name, decoder, prepared, max_side=max_side, limits=limits, notes=notes
    )
    original_mode, had_alpha = im.mode, has_alpha(im)
    im = _upright(im, orientation, notes)
    decoded_size = im.size
    # the file's own size, upright: the draft decode above may have made it smaller
    quarter_turn = orientation in (5, 6, 7, 8)
    original_size = (file_size[1], file_size[0]) if quarter_turn else file_size
    _check_working_size(name, original_size, max_side, limits)
    im = _to_working_colour(name, decoder, im, notes)
    if max_side and max(im.size) > max_side:
        im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return Photo(
        image=im,
        source=name,
        format=decoder,
        original_size=original_size,
        original_mode=original_mode,
        frames=frames,
        had_alpha=had_alpha,
        notes=tuple(notes),
        decoded_size=decoded_size,
    )


def _decode(
    name: str,
    decoder: str,
    prepared: Prepared,
    *,
    max_side: int | None,
    limits: IntakeLimits,
    notes: list[str],
) -> tuple[Image.Image, int, int | None, tuple[int, int]]:
    """Open and load the first frame only; every decoder failure becomes BAD_INPUT.

    Also returns the size the file declares, before any reduced-scale decode."""
    opened = False
    try:
        with warnings.catch_warnings():
            # our own pixel limit is the one that applies, and decoder warnings about
            # damaged tags are noise to a user whose photo still decodes
            warnings.simplefilter("ignore")
            im = Image.open(io.BytesIO(prepared.data), formats=[decoder])
            opened = True
            check_dimensions(name, im.size, limits)
            file_size = im.size
            frames = _frames(im, decoder, prepared)
            if frames > 1:
                more = "at least " if prepared.more_frames else ""
                notes.append(f"used the first of {more}{frames} frames")
            if decoder == "JPEG" and max_side:
                _request_draft(im, max_side)
            orientation = _orientation(im, notes)  # before load: Pillow's TIFF load uses it
            im.load()
    except PhotoFluxError:
        raise
    except Image.DecompressionBombError as exc:
        raise too_large(name) from exc
    # A damaged file can make any decoder raise almost anything (ValueError,
    # struct.error, IndexError, SyntaxError, ...): at this trust boundary every
    # decoding failure is one of two user-facing facts, unsupported or damaged.
    except Exception as exc:
        raise _decode_failure(name, decoder, prepared, opened, exc) from exc
    return im, frames, orientation, file_size


def _check_working_size(
    name: str, size: tuple[int, int], max_side: int | None, limits: IntakeLimits
) -> None:
    """A long, narrow photo shrunk to a small `max_side` can end up thinner than any
    renderer accepts (640×64 at 64 px is 64×6): say so in terms of the setting."""
    long, short = max(size), min(size)
    if not max_side or long <= max_side:
        return
    if short * max_side >= limits.min_side * long:  # exact: no rounding either way
        return
    needed = -(-limits.min_side * long // short)  # ceiling division
    raise bad_input(
        f"{name} is {size[0]}×{size[1]} px; at a longest side of {max_side} px its short side "
        f"would be under {limits.min_side} px, the least PhotoFlux works with.",
        f"Use a working size (--max-side) of at least {needed} px, or crop the photo.",
        field="max_side",
    )


def _decode_failure(
    name: str, decoder: str, prepared: Prepared, opened: bool, exc: Exception
) -> PhotoFluxError:
    """Not supported (a valid variant Pillow lacks) or damaged: the two facts a user needs."""
    text = str(exc).lower()
    if any(words in text for words in _UNSUPPORTED_WORDS) or (
        not opened and prepared.variant  # a header that parsed, in a layout Pillow lacks
    ):
        return not_supported(name, prepared.variant or f"a kind of {decoder} file")
    return bad_input(
        f"{name} could not be decoded: the file is damaged or incomplete.",
        "Re-export or re-download the photo and try again.",
        reason=type(exc).__name__,
    )


def _to_working_colour(name: str, decoder: str, im: Image.Image, notes: list[str]) -> Image.Image:
    try:
        return to_srgb_rgb(im, notes)
    except Exception as exc:  # a mode no conversion path covers: a variant, not a crash
        raise not_supported(name, with_article(f"{decoder} in {im.mode} mode")) from exc


def _frames(im: Image.Image, decoder: str, prepared: Prepared) -> int:
    """The frame count the pre-scan found; only WebP's (from libwebp's index) is asked for."""
    if decoder in ("WEBP", "JPEG"):  # libwebp's demuxer / the MPO index: no walking
        try:
            return max(1, int(getattr(im, "n_frames", 1)))
        except (EOFError, OSError, ValueError):
            return 1
    return prepared.frames


def _request_draft(im: Image.Image, max_side: int) -> None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the working size allows it."""
    width, height = im.size
    scale = max_side / max(width, height)
    if scale < 1:
        im.draft("RGB", (max(1, round(width * scale)), max(1, round(height * scale))))


def _orientation(im: Image.Image, notes: list[str]) -> int | None:
    """A valid EXIF orientation (2–8), or None: 1, and 0/9/65535 no camera means, do nothing."""
    try:
        value = im.getexif().get(0x0112)
    except Exception:  # malformed EXIF is common in the wild; ignore it, keep the pixels
        notes.append("ignored unreadable EXIF")
        return None
    return value if isinstance(value, int) and value in _UPRIGHT else None


def _upright(im: Image.Image, orientation: int | None, notes: list[str]) -> Image.Image:
    if orientation is None:
        return im
    notes.append(f"applied EXIF orientation {orientation}")
    try:
        already = im.getexif().get(0x0112) != orientation
    except Exception:  # unreadable now but readable before load: the decoder consumed it
        already = True
    # Pillow's TIFF loader turns the pixels itself and drops the tag; others leave it to us
    return im if already else im.transpose(_UPRIGHT[orientation])
