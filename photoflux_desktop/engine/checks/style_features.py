"""Palette and texture statistics of one image: what a style signature is made of.

Content-light by design: the numbers describe how an image is painted (how colourful,
how flat, how many edges, how much fine texture, how many distinct colours), not what it
shows, so renders of different photos in one style land close together. Everything is
measured on a copy reduced to `WORK_SIDE` (a few milliseconds at any input size), which
also makes the numbers independent of the render size.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from photoflux_desktop.engine.lazy import opencv

WORK_SIDE = 256

# scalar statistics, in this order; each is roughly 0-1 or a few units wide
FEATURES: tuple[str, ...] = (
    "lightness_mean",  # Lab L*, 0-1
    "lightness_spread",  # std of L*, 0-1
    "chroma_mean",  # mean Lab chroma, 0-1 (0: greyscale)
    "chroma_spread",  # std of chroma
    "warmth",  # mean b* minus mean a*-neutral: yellow/blue cast, -1..1
    "colourful_share",  # share of pixels with clearly visible colour (chroma > 0.08)
    "edge_density",  # share of Canny edge pixels
    "local_contrast",  # mean local std of L* in 7x7 windows, 0-1
    "texture_energy",  # mean |Laplacian| of L*, 0-1
    "flatness",  # share of pixels whose 3x3 neighbourhood is (almost) one tone
    "palette_size",  # distinct colours at 3 bits a channel, as a share of 512
    "dark_share",  # share of near-black pixels (ink)
    "light_share",  # share of near-white pixels (paper)
    "hue_entropy",  # entropy of the hue histogram of colourful pixels, 0-1 (low: few inks)
    "grain",  # std of what a 3x3 median removes (film grain, halftone dots), 0-1
    "edge_darkness",  # how much darker edge pixels are than the mean (ink lines)
    "chroma_high",  # 95th percentile of chroma
)
COLOURFUL = 0.08  # Lab chroma (0-1 scale) above which a pixel has visible colour
# a coarse Lab histogram: 4 lightness x 4 a* x 4 b* bins, normalised to sum 1
HIST_BINS = (4, 4, 4)


def work_copy(image: Image.Image) -> np.ndarray:
    """The image as 8-bit RGB, its long side reduced to WORK_SIDE."""
    rgb = image.convert("RGB")
    scale = WORK_SIDE / max(rgb.size)
    if scale < 1:
        size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        rgb = rgb.resize(size, Image.Resampling.BOX)
    return np.ascontiguousarray(np.asarray(rgb))


def style_features(image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """(scalar statistics in FEATURES order, flattened Lab histogram) of `image`."""
    cv2 = opencv()
    rgb = work_copy(image)
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    lightness = lab[..., 0] / 255.0
    a, b = (lab[..., 1] - 128.0) / 128.0, (lab[..., 2] - 128.0) / 128.0
    chroma = np.sqrt(a * a + b * b)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(grey, 80, 160)
    mean = cv2.blur(lightness, (7, 7))
    local_var = np.clip(cv2.blur(lightness * lightness, (7, 7)) - mean * mean, 0, None)
    laplacian = cv2.Laplacian(lightness, cv2.CV_32F)
    spread3 = cv2.dilate(grey, np.ones((3, 3), np.uint8)) - cv2.erode(grey, np.ones((3, 3)))
    # hue only where colour is clearly visible: the hue of near-grey pixels is noise (an
    # invisible watermark or JPEG gives a grey sketch random hues)
    colourful = chroma > COLOURFUL
    hue = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL)[..., 0][colourful]
    hue_entropy = 0.0
    if hue.size > 0.01 * chroma.size:
        hue_p = np.bincount(hue >> 4, minlength=16) / hue.size
        hue_entropy = -float(np.sum(hue_p[hue_p > 0] * np.log(hue_p[hue_p > 0]))) / np.log(16)
    grain = (grey.astype(np.float32) - cv2.medianBlur(grey, 3).astype(np.float32)).std() / 255
    edge_mask = edges > 0
    edge_l = float(lightness[edge_mask].mean()) if edge_mask.any() else float(lightness.mean())
    codes = (rgb >> 5).astype(np.int32)
    palette = np.unique(codes[..., 0] * 64 + codes[..., 1] * 8 + codes[..., 2]).size
    scalars = np.array(
        [
            lightness.mean(),
            lightness.std(),
            chroma.mean(),
            chroma.std(),
            b.mean() - a.mean() * 0.5,
            np.count_nonzero(colourful) / colourful.size,
            np.count_nonzero(edges) / edges.size,
            np.sqrt(local_var).mean(),
            np.abs(laplacian).mean(),
            np.count_nonzero(spread3 <= 4) / spread3.size,
            palette / 512.0,
            np.count_nonzero(grey < 30) / grey.size,
            np.count_nonzero(grey > 225) / grey.size,
            hue_entropy,
            grain,
            lightness.mean() - edge_l,
            np.percentile(chroma, 95),
        ],
        dtype=np.float64,
    )
    # a* and b* of real colours rarely leave 64-192 (of 0-255): the bins cover that span
    ranges = [0, 256, 64, 192, 64, 192]
    hist = cv2.calcHist([lab.astype(np.uint8)], [0, 1, 2], None, list(HIST_BINS), ranges)
    hist = hist.flatten().astype(np.float64)
    return scalars, hist / max(1.0, float(hist.sum()))


def hellinger(p: np.ndarray, q: np.ndarray) -> float:
    """Distance between two normalised histograms: 0 same, 1 nothing in common."""
    return float(np.sqrt(max(0.0, 1.0 - float(np.sum(np.sqrt(p * q))))))
