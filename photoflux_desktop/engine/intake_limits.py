"""How much intake accepts, and the refusals that name those limits.

Two kinds of limit: what a photo may be (bytes, pixels, shape) and how much structural
work a file may ask for before its first picture (segments, chunks, pages). The second
kind keeps a hostile file's cost bounded by what one working image needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from photoflux_desktop.engine.errors import PhotoFluxError, bad_input


@dataclass(frozen=True)
class IntakeLimits:
    max_file_bytes: int = 256 * 1024 * 1024
    max_pixels: int = 150_000_000
    min_side: int = 32
    max_aspect: float = 10.0
    # JPEG segments / PNG metadata chunks before the picture (cameras write tens)
    max_segments: int = 4096
    # JPEG scans in the whole file (progressive encoders write about ten per picture)
    max_scans: int = 1000
    # PNG chunks in all: 256 MiB of the 4-8 KiB IDAT chunks encoders write is <= 65,536;
    # walking this many offsets costs about a quarter of a second
    max_chunks: int = 1 << 18
    # pages/frames counted for the "first of N" note; never more are walked
    max_frames_counted: int = 100
    # values in one TIFF tag (a 16-bit colour map or transfer function holds 196,608)
    max_tag_values: int = 1 << 20


DEFAULT_LIMITS = IntakeLimits()


def too_large(
    name: str, width: int = 0, height: int = 0, limits: IntakeLimits = DEFAULT_LIMITS
) -> PhotoFluxError:
    dims = f" ({width}×{height} = {width * height / 1e6:.0f} megapixels)" if width else ""
    return bad_input(
        f"{name} is too large to open safely{dims}.",
        f"PhotoFlux accepts up to {limits.max_pixels / 1e6:.0f} megapixels; "
        "downscale the image first.",
    )


def file_too_big(name: str, size: int, limits: IntakeLimits) -> PhotoFluxError:
    return bad_input(
        f"{name} is {size / 2**20:.0f} MiB, "
        f"over the {limits.max_file_bytes / 2**20:.0f} MiB limit.",
        "Export a smaller JPEG or PNG first.",
    )


def too_much_structure(name: str, what: str) -> PhotoFluxError:
    """A file that asks for far more parsing than any photo needs (often a crafted one)."""
    return bad_input(
        f"{name} {what}, far more than a photo needs; PhotoFlux stopped reading it.",
        "Re-export it from an image editor as a plain JPEG or PNG.",
        reason="structure_limit",
    )


def not_supported(name: str, what: str) -> PhotoFluxError:
    """A valid file in a variant Pillow cannot decode: say so, and what would work."""
    return bad_input(
        f"{name} is {what}, which PhotoFlux does not support.",
        "Save it as an 8- or 16-bit PNG (or an 8-bit JPEG or TIFF) and try again.",
        reason="unsupported_variant",
    )


def check_dimensions(name: str, size: tuple[int, int], limits: IntakeLimits) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise bad_input(f"{name} declares an empty image ({width}×{height}).")
    if width * height > limits.max_pixels:
        raise too_large(name, width, height, limits)
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
