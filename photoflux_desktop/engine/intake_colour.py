"""Any Pillow mode in, 8-bit sRGB RGB out: depth, alpha, colour space and profile."""

from __future__ import annotations

import io
from functools import cache

import numpy as np
from PIL import Image, ImageCms

_HIGH_DEPTH = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_PREMULTIPLIED = ("RGBa", "La")


def has_alpha(im: Image.Image) -> bool:
    return im.mode in _ALPHA_MODES or (
        im.mode in ("P", "L", "RGB", "1") and "transparency" in im.info
    )


def to_srgb_rgb(im: Image.Image, notes: list[str]) -> Image.Image:
    """The pixels as sRGB RGB, transparency flattened onto white; `info` emptied."""
    icc = im.info.get("icc_profile")
    if im.mode in _HIGH_DEPTH:
        im = _high_depth_to_8bit(im)
        notes.append("reduced high bit depth to 8 bits")
    elif im.mode == "1":
        im = im.convert("L")
    elif im.mode == "LAB":
        im, icc = _lab_to_srgb(im), None  # Lab is absolute: no profile applies
    if has_alpha(im):
        im = _flatten_on_white(im)
        notes.append("flattened transparency onto white")
    elif im.mode not in ("RGB", "L", "CMYK"):
        im = im.convert("RGB")  # YCbCr, HSV, RGBX, P: Pillow's own conversions
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
    arr = np.nan_to_num(arr, nan=0.0, posinf=255.0, neginf=0.0)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))  # 2-D uint8: L


def _flatten_on_white(im: Image.Image) -> Image.Image:
    if im.mode in _PREMULTIPLIED:
        # premultiplied colour c·a composited on white is c·a + 255·(1 − a): no division
        arr = np.asarray(im, dtype=np.uint16)
        colour, alpha = arr[..., :-1], arr[..., -1:]
        flat = np.minimum(colour + (255 - alpha), 255).astype(np.uint8)
        return Image.fromarray(flat[..., 0] if im.mode == "La" else flat)  # L or RGB
    rgba = im.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _lab_to_srgb(im: Image.Image) -> Image.Image:
    transform = ImageCms.buildTransform(
        ImageCms.createProfile("LAB"), _srgb_profile(), "LAB", "RGB"
    )
    return ImageCms.applyTransform(im, transform)


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
