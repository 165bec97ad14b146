"""Images that enter the service (delivery attachments): decoded in full and re-encoded.

Only what Pillow decoded leaves here, so bytes appended to an image (HTML, a ZIP), a
damaged or non-zlib PNG stream, or metadata never reach a mailbox, and the attachment's
type and extension come from the re-encoded format, not from the caller. The limits are
the same kind as the desktop's intake (photoflux_desktop.engine.intake), which the service
may not import: a pixel cap checked on the header before decoding, and Pillow's
decompression-bomb guard turned into a clean refusal instead of an error."""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from cloud_api.core.errors import ApiError

# format -> (MIME subtype, extension, save options)
FORMATS: dict[str, tuple[str, str, dict]] = {
    "JPEG": ("jpeg", "jpg", {"quality": 92}),
    "PNG": ("png", "png", {"optimize": False}),
    "WEBP": ("webp", "webp", {"quality": 92}),
}


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    subtype: str
    extension: str


def decode_base64(encoded: str, limit: int) -> bytes:
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(422, "image must be base64 (RFC 4648, no line breaks)") from exc
    if len(raw) > limit:
        raise ApiError(413, f"image larger than {limit} bytes; export it smaller")
    return raw


def reencode(raw: bytes, max_pixels: int) -> CleanImage:
    """Decodes every pixel and writes a fresh file of the same format. Runs in a thread."""
    too_big = ApiError(413, f"image larger than {max_pixels / 1e6:g} megapixels; export it smaller")
    unreadable = ApiError(422, "image is not a readable JPEG, PNG or WebP file")
    try:
        with warnings.catch_warnings():
            # our own cap (checked next) applies below Pillow's error threshold
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw), formats=list(FORMATS)) as image:
                kind = image.format or ""
                width, height = image.size
                if width * height > max_pixels:
                    raise too_big
                image.load()  # every byte of pixel data, so a broken stream fails here
                clean = _normalised(image, kind)
    except ApiError:
        raise
    except Image.DecompressionBombError as exc:
        raise too_big from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise unreadable from exc
    except Exception as exc:  # a damaged file can make a decoder raise almost anything
        raise unreadable from exc
    subtype, extension, options = FORMATS[kind]
    out = io.BytesIO()
    clean.save(out, kind, **options)
    return CleanImage(out.getvalue(), subtype, extension)


def _normalised(image: Image.Image, kind: str) -> Image.Image:
    if kind == "JPEG":
        return image.convert("RGB") if image.mode not in ("RGB", "L") else image.copy()
    keep = ("RGB", "RGBA", "L", "LA") if kind == "PNG" else ("RGB", "RGBA")
    if image.mode in keep:
        return image.copy()
    alpha = "A" in image.getbands() or "transparency" in image.info
    return image.convert("RGBA" if alpha else "RGB")


SAFE_STEM = re.compile(r"[^A-Za-z0-9_-]+")


def attachment_name(requested: str | None, extension: str) -> str:
    """The caller's name without its extension (any dots are dropped), plus the real one."""
    stem = (requested or "").rsplit(".", 1)[0] if requested and "." in requested else requested
    stem = SAFE_STEM.sub("-", stem or "").strip("-")[:60] or "photoflux"
    return f"{stem}.{extension}"
