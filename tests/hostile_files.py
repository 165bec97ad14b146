"""Generators for unusual and hostile image files (never committed; built per test)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def gradient(size: tuple[int, int] = (96, 64)) -> Image.Image:
    """An asymmetric RGB pattern: red grows left to right, green top to bottom."""
    w, h = size
    x = np.linspace(0, 255, w, dtype=np.float32)[None, :].repeat(h, 0)
    y = np.linspace(0, 255, h, dtype=np.float32)[:, None].repeat(w, 1)
    rgb = np.stack([x, y, np.full_like(x, 60)], axis=-1).astype(np.uint8)
    return Image.fromarray(rgb, "RGB")


def encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims an enormous canvas."""
    data = bytearray(encode(Image.new("L", (64, 64)), "PNG"))
    ihdr = 8 + 8  # signature + chunk length/type
    data[ihdr : ihdr + 8] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12 : ihdr + 13])) & 0xFFFFFFFF
    data[ihdr + 13 : ihdr + 17] = struct.pack(">I", crc)
    return bytes(data)


def with_orientation(image: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(image, "JPEG", exif=exif.tobytes(), quality=95)


def stored_for_orientation(upright: Image.Image, orientation: int) -> Image.Image:
    """The pixels a camera stores so that EXIF `orientation` displays `upright`."""
    t = Image.Transpose
    inverse = {
        1: None,
        2: t.FLIP_LEFT_RIGHT,
        3: t.ROTATE_180,
        4: t.FLIP_TOP_BOTTOM,
        5: t.TRANSPOSE,
        6: t.ROTATE_90,
        7: t.TRANSVERSE,
        8: t.ROTATE_270,
    }[orientation]
    return upright if inverse is None else upright.transpose(inverse)


def animated(fmt: str, frames: int = 3) -> bytes:
    images = [Image.new("RGB", (64, 48), colour) for colour in ("red", "green", "blue")[:frames]]
    return encode(images[0], fmt, save_all=True, append_images=images[1:], duration=100, loop=0)


def multipage_tiff() -> bytes:
    pages = [gradient(), Image.new("RGB", (96, 64), "blue")]
    return encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])


def sixteen_bit_png_grey() -> bytes:
    arr = (np.linspace(0, 65535, 64 * 64).reshape(64, 64)).astype(np.uint16)
    return encode(Image.fromarray(arr), "PNG")


def sixteen_bit_rgb(path: Path, ext: str) -> Path:
    import cv2

    arr = np.zeros((64, 96, 3), np.uint16)
    arr[..., 2] = np.linspace(0, 65535, 96, dtype=np.uint16)[None, :]  # red in BGR order
    target = path / f"rgb16.{ext}"
    cv2.imwrite(str(target), arr)
    return target


def palette_with_transparency() -> bytes:
    image = Image.new("P", (64, 64), 0)
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * (254 * 3))
    image.paste(1, (0, 0, 32, 64))
    return encode(image, "PNG", transparency=0)


def cmyk_jpeg() -> bytes:
    return encode(Image.new("CMYK", (64, 64), (0, 255, 255, 0)), "JPEG")


def gps_jpeg(image: Image.Image) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    gps = exif.get_ifd(0x8825)
    gps[2] = (51.0, 30.0, 0.0)  # latitude
    gps[1] = "N"
    return encode(image, "JPEG", exif=exif.tobytes())


def renamed_srgb_profile() -> bytes:
    """The sRGB profile with its description changed, so it is not recognised as sRGB."""
    from PIL import ImageCms

    data = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return data.replace(b"s\x00R\x00G\x00B", b"X\x00Y\x00Z\x00W").replace(b"sRGB", b"XYZW")


# --- hand-built files for intake bounds (structures Pillow cannot write) -------------------

_TIFF_TYPES = {1: ("B", 1), 2: ("B", 1), 3: ("H", 2), 4: ("I", 4), 7: ("B", 1), 13: ("I", 4)}
TiffEntries = dict[int, tuple[int, "bytes | tuple[int, ...]"]]


def _tiff_ifd(entries: TiffEntries, at: int, next_ifd: int) -> bytes:
    """One little-endian IFD placed at offset `at`, its long values right after it."""
    table, overflow = b"", b""
    values_at = at + 2 + 12 * len(entries) + 4
    for tag in sorted(entries):
        kind, values = entries[tag]
        code, width = _TIFF_TYPES[kind]
        raw = values if isinstance(values, bytes) else struct.pack(f"<{len(values)}{code}", *values)
        count = len(raw) // width
        if len(raw) <= 4:
            field = raw.ljust(4, b"\0")
        else:
            field = struct.pack("<I", values_at + len(overflow))
            overflow += raw + b"\0" * (len(raw) % 2)
        table += struct.pack("<HHI", tag, kind, count) + field
    return struct.pack("<H", len(entries)) + table + struct.pack("<I", next_ifd) + overflow


def tiff(
    size: tuple[int, int],
    bits: tuple[int, ...],
    photometric: int,
    pixels: bytes,
    *,
    extra: TiffEntries | None = None,
    chain: int = 0,
) -> bytes:
    """An uncompressed one-strip TIFF; `chain` more pages repeat the first one."""
    width, height = size
    entries: TiffEntries = {
        256: (4, (width,)),
        257: (4, (height,)),
        258: (3, bits),
        259: (3, (1,)),
        262: (3, (photometric,)),
        273: (4, (8,)),
        277: (3, (len(bits),)),
        278: (4, (height,)),
        279: (4, (len(pixels),)),
    }
    entries.update(extra or {})
    out = bytearray(b"II*\0" + struct.pack("<I", 8 + len(pixels) + len(pixels) % 2))
    out += pixels + b"\0" * (len(pixels) % 2)
    for page in range(chain + 1):
        size_now = len(_tiff_ifd(entries, len(out), 0))
        next_ifd = len(out) + size_now if page < chain else 0
        out += _tiff_ifd(entries, len(out), next_ifd)
    return bytes(out)


def grey_alpha_tiff(associated: bool | None, size: tuple[int, int] = (32, 32)) -> bytes:
    """2-channel grey+alpha: ExtraSamples 1 (premultiplied, Pillow's "La"), 2, or absent."""
    w, h = size
    grey = np.tile(np.linspace(0, 255, w, dtype=np.uint8), (h, 1))
    alpha = np.full((h, w), 255, np.uint8)
    alpha[:, : w // 2] = 0  # left half transparent
    if associated:
        grey = (grey.astype(np.uint16) * alpha // 255).astype(np.uint8)
    pixels = np.stack([grey, alpha], -1).tobytes()
    extra = {} if associated is None else {338: (3, (1 if associated else 2,))}
    return tiff(size, (8, 8), 1, pixels, extra=extra)


def tiff_with_sub_ifds(depth: int = 3) -> bytes:
    """A grey TIFF whose first page carries SubIFDs that nest `depth` levels deep."""
    first = tiff((32, 32), (8,), 1, bytes(range(32)) * 32)
    out = bytearray(first)
    child = 0
    for _ in range(depth):  # innermost first, each level pointing at the previous one
        entries: TiffEntries = {
            256: (4, (32,)), 257: (4, (32,)), 258: (3, (8,)), 259: (3, (1,)),
            262: (3, (1,)), 273: (4, (8,)), 277: (3, (1,)), 278: (4, (32,)),
            279: (4, (1024,)), 254: (4, (1,)),
        }  # fmt: skip
        if child:
            entries[330] = (13, (child,))
        child = len(out)
        out += _tiff_ifd(entries, child, 0)
    # point the first IFD at the outermost sub-IFD by rewriting it at the end
    (first_ifd,) = struct.unpack_from("<I", out, 4)
    (count,) = struct.unpack_from("<H", out, first_ifd)
    entries = {}
    for i in range(count):
        tag, kind, n, raw = struct.unpack_from("<HHI4s", out, first_ifd + 2 + 12 * i)
        code, width = _TIFF_TYPES[kind]
        if n * width <= 4:
            values = struct.unpack_from(f"<{n}{code}", raw)
        else:
            (at,) = struct.unpack("<I", raw)
            values = struct.unpack_from(f"<{n}{code}", out, at)
        entries[tag] = (kind, values)
    entries[330] = (13, (child,))
    new_at = len(out)
    out += _tiff_ifd(entries, new_at, 0)
    struct.pack_into("<I", out, 4, new_at)
    return bytes(out)


def tiff_declaring_strips(strips: int) -> bytes:
    """A 32×32 TIFF whose StripOffsets/StripByteCounts declare `strips` entries (SHORT)."""
    pixels = bytes(32 * 32)
    offsets = struct.pack("<H", 8) * strips
    counts = struct.pack("<H", 1) * strips
    return tiff(
        (32, 32), (8,), 1, pixels, extra={273: (3, offsets), 279: (3, counts), 278: (4, (1,))}
    )


def jpeg_with_comments(segments: int, payload: int = 0) -> bytes:
    """A small JPEG with `segments` COM segments of `payload` bytes before the frame."""
    base = encode(gradient((64, 64)), "JPEG")
    segment = b"\xff\xfe" + struct.pack(">H", payload + 2) + b"c" * payload
    return base[:2] + segment * segments + base[2:]


def png_with_chunks(chunks: int, after: bool = False) -> bytes:
    """A small PNG with `chunks` empty ancillary chunks before (or after) its image data."""
    base = encode(gradient((64, 64)), "PNG")
    chunk = struct.pack(">I", 0) + b"juNk" + struct.pack(">I", zlib.crc32(b"juNk"))
    at = len(base) - 12 if after else 33  # before IEND, or right after IHDR
    return base[:at] + chunk * chunks + base[at:]


def jpeg_precision(bits: int) -> bytes:
    """A JPEG whose frame header declares `bits` of sample precision (e.g. 12)."""
    data = bytearray(encode(gradient((64, 64)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 4] = bits
    return bytes(data)


def png_idat_pieces(pieces: int) -> bytes:
    """A small PNG whose image data is split into `pieces` IDAT chunks (the last one long)."""
    base = encode(gradient((64, 64)), "PNG")
    start = base.index(b"IDAT") - 4
    (length,) = struct.unpack_from(">I", base, start)
    body = base[start + 8 : start + 8 + length]
    out = base[:start]
    for i in range(pieces):
        piece = body[i : i + 1] if i < pieces - 1 else body[i:]
        out += struct.pack(">I", len(piece)) + b"IDAT" + piece
        out += struct.pack(">I", zlib.crc32(b"IDAT" + piece))
    return out + base[start + 12 + length :]


def jpeg_with_junk(junk: int, byte: bytes = b"\x00") -> bytes:
    """A JPEG with `junk` stray bytes (or 0xFF fill) between two segments."""
    base = encode(gradient((64, 64)), "JPEG")
    after_app0 = 4 + struct.unpack_from(">H", base, 4)[0]
    return base[:after_app0] + byte * junk + base[after_app0:]


def jpeg_with_scans(scans: int) -> bytes:
    """A progressive JPEG followed by `scans` start-of-scan markers (a scan flood's shape)."""
    return encode(gradient((64, 64)), "JPEG", progressive=True) + b"\xff\xda\x00\x02" * scans


def gif_with_comments(comments: int) -> bytes:
    """A small GIF with `comments` one-byte comment extensions before its first image."""
    base = encode(Image.new("P", (64, 48), 1), "GIF")
    flags = base[10]
    start = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    return base[:start] + b"\x21\xfe\x01c\x00" * comments + base[start:]
