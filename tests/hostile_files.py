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
