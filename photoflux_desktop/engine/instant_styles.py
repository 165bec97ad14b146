"""Instant styles: non-diffusion looks built from OpenCV filters.

They need no model download and run in a fraction of a second, so the app is useful
on first launch and they stand in for diffusion presets until a model is present.
Expensive edge-preserving filters run at half resolution and are upsampled: the look
survives and the time drops by ~4x.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from photoflux_desktop.engine.errors import bad_input
from photoflux_desktop.engine.lazy import opencv as _cv2  # cv2 loads on first use (~100 ms)

StyleFn = Callable[[np.ndarray, np.random.Generator], np.ndarray]


@dataclass(frozen=True)
class InstantStyle:
    id: str
    name: str
    description: str
    fn: StyleFn


def _half(rgb: np.ndarray) -> np.ndarray:
    cv2 = _cv2()
    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)


def _full(small: np.ndarray, like: np.ndarray) -> np.ndarray:
    cv2 = _cv2()
    h, w = like.shape[:2]
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _gray(rgb: np.ndarray) -> np.ndarray:
    return _cv2().cvtColor(rgb, _cv2().COLOR_RGB2GRAY)


def _edges(rgb: np.ndarray, block: int = 9, c: int = 3, blur: int = 5) -> np.ndarray:
    """Binary ink mask (0 = line, 255 = paper) from adaptive thresholding."""
    cv2 = _cv2()
    gray = cv2.medianBlur(_gray(rgb), blur)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, c)


def _quantize(rgb: np.ndarray, colours: int, rng: np.random.Generator) -> np.ndarray:
    """k-means palette learned on a small copy, then applied to every pixel."""
    cv2 = _cv2()
    sample = cv2.resize(rgb, (96, 96), interpolation=cv2.INTER_AREA).reshape(-1, 3)
    cv2.setRNGSeed(int(rng.integers(0, 2**31 - 1)))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 12, 1.0)
    _, _, centres = cv2.kmeans(
        np.float32(sample), colours, None, criteria, 2, cv2.KMEANS_PP_CENTERS
    )
    centres = centres.astype(np.float32)
    flat = rgb.reshape(-1, 3).astype(np.float32)
    # |x - c|^2 = |x|^2 - 2 x.c + |c|^2; |x|^2 is the same for every centre
    scores = flat @ centres.T * -2.0 + (centres**2).sum(axis=1)
    labels = scores.argmin(axis=1)
    return centres[labels].reshape(rgb.shape).astype(np.uint8)


def _blend(a: np.ndarray, b: np.ndarray, alpha: float) -> np.ndarray:
    return _cv2().addWeighted(a, 1.0 - alpha, b, alpha, 0)


def _saturate(rgb: np.ndarray, factor: float) -> np.ndarray:
    cv2 = _cv2()
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 1] = np.clip(hsv[..., 1] * factor, 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def _vignette(rgb: np.ndarray, strength: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    y = np.linspace(-1.0, 1.0, h, dtype=np.float32)[:, None]
    x = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :]
    mask = 1.0 - strength * np.clip((x * x + y * y) / 2.0, 0.0, 1.0)
    return np.clip(rgb.astype(np.float32) * mask[..., None], 0, 255).astype(np.uint8)


def pencil_sketch(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cv2 = _cv2()
    gray = _gray(rgb)
    blurred = cv2.GaussianBlur(255 - gray, (0, 0), sigmaX=max(2.0, rgb.shape[1] / 160))
    sketch = cv2.divide(gray, 255 - blurred, scale=256)
    grain = rng.normal(0, 4, sketch.shape).astype(np.float32)
    sketch = np.clip(sketch.astype(np.float32) + grain, 0, 255).astype(np.uint8)
    return cv2.cvtColor(sketch, cv2.COLOR_GRAY2RGB)


def watercolor(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cv2 = _cv2()
    small = cv2.edgePreservingFilter(_half(rgb), flags=cv2.RECURS_FILTER, sigma_s=50, sigma_r=0.5)
    small = cv2.medianBlur(small, 5)
    washed = _saturate(_full(small, rgb), 1.15)
    paper = np.full_like(washed, (250, 246, 236))
    washed = _blend(washed, paper, 0.18)
    edges = cv2.GaussianBlur(_edges(rgb, block=11, c=6, blur=7), (3, 3), 0)
    return cv2.multiply(washed, cv2.cvtColor(edges, cv2.COLOR_GRAY2RGB), scale=1 / 255)


def cartoon(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cv2 = _cv2()
    small = _half(rgb)
    for _ in range(2):
        small = cv2.bilateralFilter(small, 7, 60, 7)
    flat = _quantize(_full(small, rgb), 9, rng)
    edges = _edges(rgb, block=9, c=4, blur=7)
    return cv2.bitwise_and(flat, flat, mask=edges)


def hdr_detail(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Base/detail split of luma: the detail layer is boosted, then CLAHE.

    YCrCb, not Lab: OpenCV's first Lab conversion builds tables for ~0.4 s, and
    cv2.detailEnhance costs ~0.3 s a call at 1024 px; this look needs neither."""
    cv2 = _cv2()
    ycc = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    lightness = ycc[..., 0].astype(np.float32)
    base = cv2.GaussianBlur(lightness, (0, 0), 3.0 * _scale(rgb) + 0.5)
    ycc[..., 0] = np.clip(base + (lightness - base) * 2.6, 0, 255).astype(np.uint8)
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    ycc[..., 0] = clahe.apply(ycc[..., 0])
    return _saturate(cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB), 1.15)


def vintage(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    sepia = np.array(
        [[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]], dtype=np.float32
    )
    toned = rgb.astype(np.float32) @ sepia.T
    toned = toned * 0.85 + 28.0  # lifted, faded blacks
    toned += rng.normal(0, 6, rgb.shape[:2]).astype(np.float32)[..., None]
    toned = np.clip(toned, 0, 255).astype(np.uint8)
    return _vignette(toned, 0.45)


_POP_PALETTE = np.array(
    [[20, 20, 60], [230, 30, 110], [255, 200, 0], [60, 200, 230], [255, 250, 240]], dtype=np.uint8
)


def pop_art(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cv2 = _cv2()
    gray = cv2.GaussianBlur(_gray(rgb), (5, 5), 0)
    # luminance quantiles make the five bands equally populated on any photo
    bounds = np.percentile(gray, [20, 40, 60, 80]).astype(np.uint8)
    bands = np.digitize(gray, bounds)
    poster = _POP_PALETTE[bands]
    edges = _edges(rgb, block=9, c=5, blur=5)
    return cv2.bitwise_and(poster, poster, mask=edges)


def oil_paint(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cv2 = _cv2()
    small = cv2.stylization(_half(rgb), sigma_s=40, sigma_r=0.35)
    painted = _full(small, rgb)
    sharpen = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float32)
    return _saturate(cv2.filter2D(painted, -1, sharpen), 1.2)


def stained_glass(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cv2 = _cv2()
    small = cv2.resize(rgb, (rgb.shape[1] // 8, rgb.shape[0] // 8), interpolation=cv2.INTER_AREA)
    small = cv2.bilateralFilter(small, 5, 50, 5)
    panes = _quantize(_full(small, rgb), 8, rng)
    panes = _saturate(cv2.medianBlur(panes, 2 * max(2, rgb.shape[1] // 150) + 1), 1.5)
    lead = cv2.Canny(_gray(panes), 20, 60)
    lead = cv2.dilate(lead, np.ones((3, 3), np.uint8), iterations=max(1, rgb.shape[1] // 400))
    glow = cv2.GaussianBlur(panes, (0, 0), 6)
    glass = _blend(panes, glow, 0.35)
    glass[lead > 0] = (25, 22, 20)
    return glass


def neon(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cv2 = _cv2()
    gray = _gray(rgb).astype(np.float32) / 255.0
    shadows = np.array([40, 10, 90], dtype=np.float32)  # violet
    highlights = np.array([0, 240, 255], dtype=np.float32)  # cyan
    graded = shadows + gray[..., None] * (highlights - shadows)
    graded = _blend(rgb, np.clip(graded, 0, 255).astype(np.uint8), 0.6)
    edges = cv2.Canny(cv2.GaussianBlur(_gray(rgb), (5, 5), 0), 60, 140)
    glow_lines = cv2.GaussianBlur(edges, (0, 0), 3).astype(np.float32)[..., None] / 255.0
    magenta = np.array([255, 40, 200], dtype=np.float32)
    lit = graded.astype(np.float32) + glow_lines * magenta * 1.5
    return _vignette(np.clip(lit, 0, 255).astype(np.uint8), 0.35)


def soft_glow(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cv2 = _cv2()
    smooth = _full(cv2.bilateralFilter(_half(rgb), 9, 40, 9), rgb)
    smooth = _blend(rgb, smooth, 0.6)
    bloom = cv2.GaussianBlur(smooth, (0, 0), max(4.0, rgb.shape[1] / 120))
    screen = 255 - ((255 - smooth.astype(np.uint16)) * (255 - bloom.astype(np.uint16)) // 255)
    warm = _blend(smooth, screen.astype(np.uint8), 0.35).astype(np.float32)
    warm[..., 0] *= 1.04
    warm[..., 2] *= 0.97
    return _vignette(np.clip(warm, 0, 255).astype(np.uint8), 0.25)


def _scale(rgb: np.ndarray) -> float:
    """Kernel sizes follow the image, so a thumbnail previews the full-size look."""
    return max(rgb.shape[:2]) / 512.0


def _odd(value: float) -> int:
    return max(3, int(value) // 2 * 2 + 1)


def cel_shade(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Anime stand-in: smooth skin, three flat tones per colour, thin dark line art."""
    cv2 = _cv2()
    small = _half(rgb)
    for _ in range(2):
        small = cv2.bilateralFilter(small, 9, 70, 9)
    hsv = cv2.cvtColor(_full(small, rgb), cv2.COLOR_RGB2HSV)
    tones = np.array([95, 185, 245], dtype=np.uint8)  # shadow, base, light
    hsv[..., 2] = tones[np.digitize(hsv[..., 2], (80, 165))]
    hsv[..., 1] = np.clip(hsv[..., 1].astype(np.float32) * 1.3, 0, 255).astype(np.uint8)
    cel = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    lines = cv2.Canny(cv2.GaussianBlur(_gray(rgb), (0, 0), 1.5 * _scale(rgb) + 0.5), 50, 130)
    cel[lines > 0] = (45, 30, 60)  # thin aubergine ink, not black
    return cel


def _dot_screen(h: int, w: int, period: int) -> np.ndarray:
    """Each pixel's distance from its halftone cell's centre, in cells (0 at the centre)."""
    centre = (np.arange(period, dtype=np.float32) + 0.5 - period / 2) / period
    cell = np.hypot(centre[:, None], centre[None, :])
    reps = (h // period + 1, w // period + 1)
    return np.tile(cell, reps)[:h, :w]


def halftone_comic(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Comic stand-in: punchy flat colour, Ben-Day dots shadow dots, thick black ink."""
    cv2 = _cv2()
    small = cv2.bilateralFilter(_half(rgb), 7, 60, 7)
    flat = _saturate(_full(_quantize(small, 6, rng), rgb), 1.5)
    h, w = rgb.shape[:2]
    period = max(4, round(6 * _scale(rgb)))
    darkness = 1.0 - cv2.GaussianBlur(_gray(flat), (0, 0), period / 2) / np.float32(255.0)
    dots = _dot_screen(h, w, period) < darkness * 0.62
    toned = flat.copy()
    toned[dots] = toned[dots] // 3
    ink = 255 - _edges(rgb, block=_odd(15 * _scale(rgb)), c=6, blur=5)
    ink = cv2.dilate(ink, np.ones((2, 2), np.uint8), iterations=max(1, round(_scale(rgb))))
    toned[ink > 0] = (10, 10, 10)
    return toned


def clay(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Claymation stand-in: rounded plasticine blobs, soft studio shading, fingerprints.

    Everything happens at half size: clay has no fine detail to lose."""
    cv2 = _cv2()
    small = _half(rgb)
    h, w = small.shape[:2]
    scale = _scale(small)
    for _ in range(2):
        small = cv2.bilateralFilter(small, 9, 90, 9)
    blobs = cv2.medianBlur(_quantize(small, 10, rng), _odd(5 * scale))  # rounded shapes
    body = _saturate(blobs, 1.35).astype(np.float32)
    height = cv2.GaussianBlur(_gray(blobs), (0, 0), 3 * scale + 1).astype(np.float32)
    gy, gx = np.gradient(height)
    light = np.clip(1.0 + (-gx - gy) * 0.16 / max(scale, 0.25), 0.7, 1.3)  # from top left
    thumbs = rng.normal(0, 1, (max(1, h // 6), max(1, w // 6))).astype(np.float32)
    prints = cv2.resize(thumbs, (w, h), interpolation=cv2.INTER_CUBIC) * 6.0
    shaded = body * light[..., None] + prints[..., None] + (14, 6, -8)  # warm studio light
    return _full(np.clip(shaded, 0, 255).astype(np.uint8), rgb)


def _toon_curve() -> np.ndarray:
    """Brighter mid-tones, then an S-curve for rounder shading, as a lookup table."""
    x = np.power(np.arange(256, dtype=np.float32) / 255.0, 0.9)
    return np.clip(x * x * (3.0 - 2.0 * x) * 255.0, 0, 255).astype(np.uint8)


def toon_3d(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """3D animated stand-in: plastic-smooth forms, bright saturated grade, glossy rim light.

    Worked at half size: the look is smooth by design."""
    cv2 = _cv2()
    small = _half(rgb)
    smooth = cv2.edgePreservingFilter(small, flags=cv2.RECURS_FILTER, sigma_s=60, sigma_r=0.4)
    graded = _saturate(cv2.LUT(smooth, _toon_curve()), 1.45).astype(np.float32)
    luma = graded.mean(axis=2, keepdims=True) / 255.0
    graded += (1.0 - luma) * np.array([-18, 4, 26], np.float32)  # cool teal shadows
    graded += luma * np.array([22, 8, -14], np.float32)  # warm highlights
    gloss = cv2.GaussianBlur(np.clip(graded, 0, 255).astype(np.uint8), (0, 0), 4 * _scale(rgb))
    gloss = np.clip(gloss.astype(np.float32) - 185.0, 0, None) * 0.8
    return _full(np.clip(graded + gloss, 0, 255).astype(np.uint8), rgb)


INSTANT_STYLES: dict[str, InstantStyle] = {
    style.id: style
    for style in (
        InstantStyle("pencil-sketch", "Pencil sketch", "Graphite lines on paper", pencil_sketch),
        InstantStyle("watercolor", "Watercolor", "Soft washes with ink edges", watercolor),
        InstantStyle("cartoon", "Cartoon", "Flat colours and bold outlines", cartoon),
        InstantStyle("hdr-detail", "Detail / HDR", "Local contrast and crisp detail", hdr_detail),
        InstantStyle("vintage", "Vintage sepia", "Faded sepia with grain and vignette", vintage),
        InstantStyle("pop-art", "Pop art", "Four-colour poster with ink lines", pop_art),
        InstantStyle("oil-paint", "Oil paint", "Painterly strokes, rich colour", oil_paint),
        InstantStyle("stained-glass", "Stained glass", "Glowing panes, lead lines", stained_glass),
        InstantStyle("neon", "Neon", "Violet-cyan grade with glowing edges", neon),
        InstantStyle("soft-glow", "Soft glow", "Smooth skin, warm bloom", soft_glow),
        InstantStyle("cel-shade", "Cel shading", "Three flat tones and thin line art", cel_shade),
        InstantStyle(
            "halftone-comic",
            "Halftone comic",
            "Flat colour, Ben-Day dots, black ink",
            halftone_comic,
        ),
        InstantStyle("clay", "Clay", "Rounded plasticine shapes, soft studio light", clay),
        InstantStyle("toon-3d", "3D toon", "Plastic-smooth forms, glossy saturated light", toon_3d),
    )
}


def scale_thumbnail(image: Image.Image, side: int) -> Image.Image:
    """The centre square of `image`, resized to `side` pixels: what a style tile shows."""
    rgb = image.convert("RGB")
    short = min(rgb.size)
    left, top = (rgb.width - short) // 2, (rgb.height - short) // 2
    square = rgb.crop((left, top, left + short, top + short))
    # reduce() first: a 2048 px photo shrinks by box averaging before the finer filter
    factor = max(1, short // (side * 2))
    if factor > 1:
        square = square.reduce(factor)
    return square.resize((side, side), Image.Resampling.BILINEAR)


def apply_instant_style(
    image: Image.Image, style_id: str, amount: float = 1.0, seed: int = 0
) -> Image.Image:
    """Apply an instant style to an RGB image; `amount` blends with the original."""
    style = INSTANT_STYLES.get(style_id)
    if style is None:
        known = ", ".join(sorted(INSTANT_STYLES))
        raise bad_input(f"Unknown instant style '{style_id}'.", f"Known instant styles: {known}.")
    if not 0.0 <= amount <= 1.0:
        raise bad_input(f"Instant style amount {amount} is outside 0..1.")
    rgb = np.ascontiguousarray(np.asarray(image.convert("RGB")))
    styled = style.fn(rgb, np.random.default_rng(seed))
    if amount < 1.0:
        styled = _blend(rgb, styled, amount)
    return Image.fromarray(styled, mode="RGB")
