"""Augmentation of training crops: small rotations, mirror flips, colour jitter.

Variants are made once, before training, and their latents cached: variant 0 is the
plain crop, the others are drawn from a seeded generator, so the same options and
seed always give the same pictures (resume depends on that).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

from PIL import Image, ImageEnhance


@dataclass(frozen=True)
class AugmentOptions:
    variants: int = 2  # pictures per photo, the plain crop included (1 = no augmentation)
    flip: bool = True  # mirror; turn off for asymmetric subjects (text, a parting)
    rotation_deg: float = 5.0  # up to this many degrees either way
    colour_jitter: float = 0.05  # brightness/contrast/saturation up to ±this share

    def __post_init__(self) -> None:
        if not 1 <= self.variants <= 8:
            raise ValueError("variants must be 1 to 8")
        if not 0 <= self.rotation_deg <= 30 or not 0 <= self.colour_jitter <= 0.5:
            raise ValueError("rotation 0-30 degrees, colour jitter 0-0.5")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def variants(image: Image.Image, options: AugmentOptions, seed: int) -> list[Image.Image]:
    rng = random.Random(seed)
    out = [image]
    for _ in range(options.variants - 1):
        out.append(_augmented(image, options, rng))
    return out


def _augmented(image: Image.Image, options: AugmentOptions, rng: random.Random) -> Image.Image:
    result = image
    if options.flip and rng.random() < 0.5:
        result = result.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if options.rotation_deg:
        angle = rng.uniform(-options.rotation_deg, options.rotation_deg)
        # rotate a slightly enlarged copy and crop back, so no black corners appear
        side = image.width
        grow = 1.0 + abs(angle) / 45.0
        big = result.resize((round(side * grow),) * 2, Image.Resampling.BICUBIC)
        big = big.rotate(angle, resample=Image.Resampling.BICUBIC)
        offset = (big.width - side) // 2
        result = big.crop((offset, offset, offset + side, offset + side))
    for enhancer in (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color):
        if options.colour_jitter:
            factor = 1.0 + rng.uniform(-options.colour_jitter, options.colour_jitter)
            result = enhancer(result).enhance(factor)
    return result
