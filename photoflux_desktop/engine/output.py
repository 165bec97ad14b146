"""Writing results: PNG, JPEG or WebP, atomically, with provenance and watermarks.

The file is written to a temporary name in the destination folder, flushed to disk
and renamed over the target, so a crash or a full disk never leaves a half-written
image where the user expects their result.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import threading
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

from PIL import Image, ImageCms, PngImagePlugin

from photoflux_desktop.engine.errors import bad_input
from photoflux_desktop.engine.provenance import APP_NAME, to_xmp
from photoflux_desktop.engine.watermark import (
    VisibleWatermark,
    WatermarkCheck,
    apply_visible,
    detect_invisible,
    embed_invisible,
)

FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
LOSSY = {"JPEG", "WEBP"}
# qualities tried, in order, when lossy encoding erases the invisible mark
_RESCUE_QUALITIES = (95, 100)


@dataclass(frozen=True)
class OutputOptions:
    quality: int = 92
    invisible_watermark: bool = True
    visible_watermark: VisibleWatermark | None = None
    max_side: int | None = None


@dataclass(frozen=True)
class WrittenImage:
    path: Path
    format: str
    size: tuple[int, int]
    bytes: int
    watermark: WatermarkCheck

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "format": self.format,
            "width": self.size[0],
            "height": self.size[1],
            "bytes": self.bytes,
            "invisible_watermark": self.watermark.to_dict(),
        }


def output_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise bad_input(
            f"Cannot write '{path.name}': unknown image type '{path.suffix or '(none)'}'.",
            "End the output name with .png, .jpg or .webp.",
        )
    return fmt


def prepare_image(image: Image.Image, options: OutputOptions) -> tuple[Image.Image, WatermarkCheck]:
    """Resize and watermark; the invisible mark goes last so nothing disturbs it."""
    image = image.convert("RGB")
    if options.max_side and max(image.size) > options.max_side:
        image = image.copy()
        image.thumbnail((options.max_side, options.max_side), Image.Resampling.LANCZOS)
    if options.visible_watermark is not None:
        image = apply_visible(image, options.visible_watermark)
    if options.invisible_watermark:
        return embed_invisible(image)
    return image, WatermarkCheck(False, False, None, "disabled")


def write_image(
    image: Image.Image,
    path: str | Path,
    record: dict[str, Any],
    options: OutputOptions | None = None,
) -> WrittenImage:
    options = options or OutputOptions()
    target = Path(path)
    fmt = output_format(target)
    if target.is_dir():
        raise bad_input(f"{target} is a folder.", "Give a file name such as result.png.")
    prepared, check = prepare_image(image, options)
    try:
        data, check = encode_checked(prepared, fmt, record, options.quality, check)
        target.parent.mkdir(parents=True, exist_ok=True)
        _atomic_save(target, lambda fp: fp.write(data))
    except PermissionError as exc:
        raise bad_input(
            f"Cannot write {target}: permission denied.", "Choose a folder you can write to."
        ) from exc
    except OSError as exc:
        raise bad_input(
            f"Cannot write {target}: {exc.strerror or exc}.",
            "Check the folder exists, is writable and has free space.",
        ) from exc
    return WrittenImage(target, fmt, prepared.size, target.stat().st_size, check)


def encode_checked(
    image: Image.Image, fmt: str, record: dict[str, Any], quality: int, check: WatermarkCheck
) -> tuple[bytes, WatermarkCheck]:
    """Encode, then read the mark back from the encoded bytes: the record states whether
    the mark survived the last transformation, not whether it was embedded before it.

    Lossy formats can erase it (flat, high-contrast looks such as pencil or pop art); the
    quality is then raised until it holds, and when nothing holds the file says so.
    """
    if not check.detected or fmt not in LOSSY:
        return encode_bytes(
            image, fmt, {**record, "invisible_watermark": check.detected}, quality
        ), check
    marked = {**record, "invisible_watermark": True}
    last = check
    for attempt in (quality, *(q for q in _RESCUE_QUALITIES if q > quality)):
        data = encode_bytes(image, fmt, marked, attempt)
        with Image.open(io.BytesIO(data)) as decoded:
            last = detect_invisible(decoded)
        if last.detected:
            reason = "" if attempt == quality else f"quality raised to {attempt} to keep it"
            return data, replace(last, reason=reason)
    lost = replace(last, reason=f"erased by {fmt} encoding even at quality 100")
    return encode_bytes(image, fmt, {**record, "invisible_watermark": False}, quality), lost


def encode_bytes(image: Image.Image, fmt: str, record: dict[str, Any], quality: int = 92) -> bytes:
    """Encode to memory (clipboard, e-mail, upload) with the same metadata as files."""
    buffer = io.BytesIO()
    _encode(image.convert("RGB"), buffer, fmt, record, quality)
    return buffer.getvalue()


def _atomic_save(target: Path, write: Any) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fp:
            write(fp)
            fp.flush()
            # mkstemp makes 0600; a result is an ordinary file: 0666 less the umask (0644)
            if os.name == "posix":
                os.fchmod(fp.fileno(), 0o666 & ~_umask())
            os.fsync(fp.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(target.parent)


_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """The process umask; reading it means setting it, so briefly and under a lock."""
    with _UMASK_LOCK:
        current = os.umask(0o022)
        os.umask(current)
    return current


def _fsync_dir(folder: Path) -> None:
    # makes the rename itself durable on POSIX; not possible (or needed) on Windows
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@cache
def _srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _encode(
    image: Image.Image, fp: BinaryIO, fmt: str, record: dict[str, Any], quality: int
) -> None:
    import json

    xmp = to_xmp(record)
    software = f"{APP_NAME} {record.get('version', '')}".strip()
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Software", software)
        info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8"))
        info.add_itxt("photoflux", json.dumps(record, sort_keys=True))
        image.save(fp, "PNG", pnginfo=info, icc_profile=_srgb_icc(), compress_level=6)
        return
    exif = Image.Exif()
    exif[0x0131] = software  # Software
    exif[0x010E] = f"Styled with {APP_NAME}: {record.get('style', '')}"  # ImageDescription
    extra = {"optimize": True, "progressive": True} if fmt == "JPEG" else {"method": 4}
    image.save(
        fp,
        fmt,
        quality=quality,
        exif=exif.tobytes(),
        xmp=xmp,
        icc_profile=_srgb_icc(),
        **extra,
    )
