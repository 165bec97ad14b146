"""Photo intake: bytes from a user become one sRGB RGB working image, or a clear refusal.

The file type is decided from the bytes, never from the name, and Pillow is only ever
allowed to use the decoder for that type (so a mislabelled file cannot reach an exotic
plugin). Size limits are checked on the header before any pixel is decoded.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import filetype
import numpy as np
from PIL import Image, ImageCms, ImageOps

from photoflux_desktop.engine.errors import PhotoFluxError, bad_input

# mime type sniffed from the bytes -> the only Pillow decoder allowed for it
_DECODERS: dict[str, str] = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/apng": "PNG",
    "image/tiff": "TIFF",
    "image/webp": "WEBP",
    "image/gif": "GIF",
    "image/bmp": "BMP",
}
_SUPPORTED_TEXT = "JPEG, PNG, TIFF or WebP"
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class IntakeLimits:
    max_file_bytes: int = 256 * 1024 * 1024
    max_pixels: int = 150_000_000
    min_side: int = 32
    max_aspect: float = 10.0


DEFAULT_LIMITS = IntakeLimits()


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
    name, data = _read_source(source, limits)
    decoder = _sniff_decoder(name, data)
    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            # our own pixel limit below is the one that applies, and decoder warnings
            # about damaged tags are noise to a user whose photo still decodes
            warnings.simplefilter("ignore")
            im = Image.open(io.BytesIO(data), formats=[decoder])
            header_size = im.size
            _check_dimensions(name, header_size, limits)
            frames = _frame_count(im)
            if frames > 1:
                im.seek(0)
                notes.append(f"used the first of {frames} frames")
            if decoder == "JPEG" and max_side:
                _request_draft(im, max_side)
            im.load()
            original_mode = im.mode
            im = _upright(im, notes)
    except PhotoFluxError:
        raise
    except Image.DecompressionBombError as exc:
        raise _too_large(name) from exc
    # A damaged file can make any decoder raise almost anything (ValueError,
    # struct.error, IndexError, SyntaxError, ...): at this trust boundary every
    # decoding failure is the same user-facing fact.
    except Exception as exc:
        raise bad_input(
            f"{name} could not be decoded: the file is damaged or incomplete.",
            "Re-export or re-download the photo and try again.",
            reason=type(exc).__name__,
        ) from exc
    original_size = im.size
    had_alpha = _has_alpha(im)
    im = _to_srgb_rgb(im, notes)
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
    )


def _read_source(source: str | Path | bytes, limits: IntakeLimits) -> tuple[str, bytes]:
    if isinstance(source, bytes | bytearray):
        name, data = "The image", bytes(source)
        if len(data) > limits.max_file_bytes:
            raise _file_too_big(name, len(data), limits)
    else:
        path = Path(source)
        name = path.name or str(path)
        data = _read_file(path, limits)
    if not data:
        raise bad_input(f"{name} is empty (0 bytes).", "Choose a photo file with content.")
    return name, data


def _read_file(path: Path, limits: IntakeLimits) -> bytes:
    name = path.name or str(path)
    if path.is_dir():
        raise bad_input(f"{path} is a folder, not a photo.", "Pass the path of one image file.")
    try:
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            raise _file_too_big(name, size, limits)
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise bad_input(f"{path} does not exist.", "Check the path and try again.") from exc
    except PermissionError as exc:
        raise bad_input(
            f"{path} cannot be read (permission denied).", "Check the file's permissions."
        ) from exc
    except OSError as exc:
        raise bad_input(f"{path} cannot be read: {exc.strerror or exc}.") from exc


def _sniff_decoder(name: str, data: bytes) -> str:
    head = data[:_SNIFF_BYTES]
    kind = filetype.guess(head)
    mime = kind.mime if kind else None
    if mime in _DECODERS:
        return _DECODERS[mime]
    if mime is None and _looks_like_text(head):
        raise bad_input(
            f"{name} is a text file, not an image.", f"Choose a {_SUPPORTED_TEXT} photo."
        )
    if mime and mime.startswith("image/"):
        raise bad_input(
            f"{name} is a {kind.extension.upper()} image, which PhotoFlux cannot read yet.",
            f"Convert it to {_SUPPORTED_TEXT} first.",
        )
    what = f"a {kind.extension.upper()} file" if kind else "not a recognisable image"
    raise bad_input(f"{name} is {what}.", f"Choose a {_SUPPORTED_TEXT} photo.")


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the end of the sniffed window is still text
        return exc.start >= len(head) - 3
    return True


def _check_dimensions(name: str, size: tuple[int, int], limits: IntakeLimits) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise bad_input(f"{name} declares an empty image ({width}×{height}).")
    if width * height > limits.max_pixels:
        raise _too_large(name, width, height, limits)
    if min(width, height) < limits.min_side:
        raise bad_input(
            f"{name} is only {width}×{height} px.",
            f"PhotoFlux needs at least {limits.min_side} px on each side.",
        )
    aspect = max(width, height) / min(width, height)
    if aspect > limits.max_aspect:
        raise bad_input(
            f"{name} is {width}×{height} px, an aspect ratio over {limits.max_aspect:g}:1.",
            "Crop it to a less extreme shape first.",
        )


def _frame_count(im: Image.Image) -> int:
    try:
        return max(1, int(getattr(im, "n_frames", 1)))
    except (EOFError, OSError, ValueError):
        return 1


def _request_draft(im: Image.Image, max_side: int) -> None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the working size allows it."""
    width, height = im.size
    scale = max_side / max(width, height)
    if scale < 1:
        im.draft("RGB", (max(1, round(width * scale)), max(1, round(height * scale))))


def _upright(im: Image.Image, notes: list[str]) -> Image.Image:
    try:
        orientation = im.getexif().get(0x0112, 1)
    except Exception:  # malformed EXIF is common in the wild; ignore it, keep the pixels
        notes.append("ignored unreadable EXIF")
        return im
    if orientation in (None, 1):
        return im
    try:
        upright = ImageOps.exif_transpose(im)
    except Exception:  # same reason: a bad EXIF block must not cost the user the photo
        notes.append("ignored unreadable EXIF orientation")
        return im
    notes.append(f"applied EXIF orientation {orientation}")
    upright.info.pop("exif", None)
    return upright


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        im.mode in ("P", "L", "RGB") and "transparency" in im.info
    )


def _to_srgb_rgb(im: Image.Image, notes: list[str]) -> Image.Image:
    icc = im.info.get("icc_profile")
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        im = _high_depth_to_8bit(im)
        notes.append("reduced high bit depth to 8 bits")
    if im.mode == "1":
        im = im.convert("L")
    if _has_alpha(im):
        im = _flatten_on_white(im)
        notes.append("flattened transparency onto white")
    elif im.mode not in ("RGB", "L", "CMYK"):
        im = im.convert("RGB")
    if icc and not _is_srgb(icc):
        converted = _apply_icc(im, icc)
        if converted is not None:
            notes.append("converted embedded colour profile to sRGB")
            im = converted
        else:
            notes.append("ignored an unusable colour profile")
    if im.mode != "RGB":
        im = im.convert("RGB")
    im.info.clear()
    return im


def _high_depth_to_8bit(im: Image.Image) -> Image.Image:
    arr = np.asarray(im, dtype=np.float64)
    top = float(np.nanmax(arr)) if arr.size else 0.0
    if top <= 1.0:
        arr = arr * 255.0
    elif top > 255.0:
        arr = arr * (255.0 / (65535.0 if top <= 65535.0 else top))
    arr = np.nan_to_num(arr, nan=0.0)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), mode="L")


def _flatten_on_white(im: Image.Image) -> Image.Image:
    rgba = im.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


@cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _is_srgb(icc: bytes) -> bool:
    try:
        description = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    except Exception:  # an unreadable profile is treated as "not sRGB" and then ignored
        return False
    return "srgb" in description.lower()


def _apply_icc(im: Image.Image, icc: bytes) -> Image.Image | None:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(im, source, _srgb_profile(), outputMode="RGB")
    except Exception:  # profile/mode mismatch or a damaged profile: fall back to plain pixels
        return None


def _too_large(
    name: str, width: int = 0, height: int = 0, limits: IntakeLimits = DEFAULT_LIMITS
) -> PhotoFluxError:
    dims = f" ({width}×{height} = {width * height / 1e6:.0f} megapixels)" if width else ""
    return bad_input(
        f"{name} is too large to open safely{dims}.",
        f"PhotoFlux accepts up to {limits.max_pixels / 1e6:.0f} megapixels; "
        "downscale the image first.",
    )


def _file_too_big(name: str, size: int, limits: IntakeLimits) -> PhotoFluxError:
    return bad_input(
        f"{name} is {size / 2**20:.0f} MiB, "
        f"over the {limits.max_file_bytes / 2**20:.0f} MiB limit.",
        "Export a smaller JPEG or PNG first.",
    )
