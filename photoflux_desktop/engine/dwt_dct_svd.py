"""The DWT-DCT-SVD invisible watermark: bits hidden in an image's chroma.

The scheme, in the order it runs:
1. RGB to YUV (OpenCV's BT.601 definition); only the U (blue-difference) channel carries
   bits, because the eye is least sensitive there.
2. One level of the Haar wavelet transform of U; only the approximation band (cA, the
   2×2 averages) is used: it survives JPEG's chroma subsampling and smoothing.
3. cA is cut into 4×4 blocks, in rows, each carrying bit number (block index mod n).
4. Each block goes through an orthonormal 2-D DCT and a singular value decomposition.
   The largest singular value is quantised with step `SCALE`: a 1 puts it at 3/4 of a
   quantisation cell, a 0 at 1/4 (the nearest such point, so the change is at most half
   a step). Only that value changes; the block is rebuilt from the same singular vectors.
5. Reading repeats 1–4 and takes each block's vote (upper or lower half of its cell);
   the bit is the majority over all blocks that carry it.

pywt is imported lazily: the desktop window imports this module's users.
The parameters (U channel, Haar, 4×4 blocks, step 36, bit order) are those of the
`invisible-watermark` package's "dwtDctSvd" method, so images PhotoFlux marked with that
package before still read back.
"""

from __future__ import annotations

import numpy as np

SCALE = 36.0
# BT.601 luma and U weights as 14-bit fixed point (0.299, 0.587, 0.114; 0.492)
_SHIFT = 14
_KR, _KG, _KB, _KU = 4899, 9617, 1868, 8061
BLOCK = 4
# How a change of U moves R, G and B when Y and V stay put (inverse BT.601 YUV).
_U_TO_RGB = np.array([0.0, -0.395, 2.032])


def _dct_matrix(n: int = BLOCK) -> np.ndarray:
    """The orthonormal DCT-II matrix D: the 2-D transform of a block B is D @ B @ D.T."""
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    matrix = np.sqrt(2.0 / n) * np.cos(np.pi * (2 * i + 1) * k / (2 * n))
    matrix[0] /= np.sqrt(2.0)
    return matrix


_DCT = _dct_matrix()


def capacity(height: int, width: int) -> int:
    """How many 4×4 blocks (one vote each) an image of this size holds."""
    return (height // (2 * BLOCK)) * (width // (2 * BLOCK))


def _u_plane(rgb: np.ndarray) -> np.ndarray:
    """The U plane of 8-bit YUV, bit-exact with OpenCV's RGB2YUV (14-bit fixed point), so
    files marked through OpenCV before read back, without loading OpenCV here."""
    f = rgb.astype(np.int64)
    half = 1 << (_SHIFT - 1)
    y = (f[..., 0] * _KR + f[..., 1] * _KG + f[..., 2] * _KB + half) >> _SHIFT
    u = ((f[..., 2] - y) * _KU + (128 << _SHIFT) + half) >> _SHIFT
    return np.clip(u, 0, 255).astype(np.float64)


def _to_blocks(plane: np.ndarray) -> np.ndarray:
    rows, cols = plane.shape[0] // BLOCK, plane.shape[1] // BLOCK
    return plane.reshape(rows, BLOCK, cols, BLOCK).swapaxes(1, 2).reshape(-1, BLOCK, BLOCK)


def _from_blocks(blocks: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    rows, cols = shape[0] // BLOCK, shape[1] // BLOCK
    return blocks.reshape(rows, cols, BLOCK, BLOCK).swapaxes(1, 2).reshape(shape)


def _approximation(rgb: np.ndarray) -> np.ndarray:
    """cA of the U plane over the part of the image that whole blocks cover."""
    import pywt

    height = rgb.shape[0] // (2 * BLOCK) * (2 * BLOCK)
    width = rgb.shape[1] // (2 * BLOCK) * (2 * BLOCK)
    approx, _details = pywt.dwt2(_u_plane(rgb)[:height, :width], "haar")
    return approx


def _bit_index(count: int, n_bits: int) -> np.ndarray:
    return np.arange(count) % n_bits


def embed(rgb: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """A copy of an 8-bit RGB array (H, W, 3) with `bits` (0/1) written into it."""
    import pywt

    approx = _approximation(rgb)
    blocks = _to_blocks(approx)
    coeffs = _DCT @ blocks @ _DCT.T
    left, values, right = np.linalg.svd(coeffs)
    largest = values[:, 0]
    wanted = np.asarray(bits, dtype=np.float64)[_bit_index(len(blocks), len(bits))]
    target = _quantise(largest, values[:, 1], 0.25 + 0.5 * wanted)
    # only the largest singular value changes: add (new - old) · u₀ v₀ᵀ to the block
    change = (target - largest)[:, None, None] * (left[:, :, :1] @ right[:, :1, :])
    change_approx = _from_blocks(_DCT.T @ change @ _DCT, approx.shape)
    # the transforms are linear: the change of U is the inverse DWT of the change of cA
    change_u = pywt.idwt2((change_approx, (None, None, None)), "haar")
    delta_u = np.zeros(rgb.shape[:2])
    delta_u[: change_u.shape[0], : change_u.shape[1]] = change_u
    marked = rgb.astype(np.float64) + delta_u[:, :, None] * _U_TO_RGB
    return np.clip(np.rint(marked), 0, 255).astype(np.uint8)


def _quantise(value: np.ndarray, floor: np.ndarray, position: np.ndarray) -> np.ndarray:
    """The nearest point at `position` (0..1) of a cell of width SCALE, kept above `floor`.

    Staying at or above the second singular value keeps the changed value the largest,
    which is the one the reader looks at.
    """
    cell = np.floor(value / SCALE)
    candidates = (cell[:, None] + np.array([-1.0, 0.0, 1.0]) + position[:, None]) * SCALE
    distance = np.abs(candidates - value[:, None])
    distance[candidates < floor[:, None]] = np.inf
    return candidates[np.arange(len(value)), distance.argmin(axis=1)]


def votes(rgb: np.ndarray, n_bits: int) -> np.ndarray:
    """Per bit, the share of its blocks that read 1 (0..1); empty image: all 0.5."""
    blocks = _to_blocks(_approximation(rgb))
    if len(blocks) == 0:
        return np.full(n_bits, 0.5)
    largest = np.linalg.svd(_DCT @ blocks @ _DCT.T, compute_uv=False)[:, 0]
    ones = (np.mod(largest, SCALE) > SCALE / 2).astype(np.float64)
    index = _bit_index(len(blocks), n_bits)
    totals = np.bincount(index, weights=ones, minlength=n_bits)
    counts = np.bincount(index, minlength=n_bits)
    return totals / np.maximum(counts, 1)


def read(rgb: np.ndarray, n_bits: int) -> np.ndarray:
    """The bits (0/1) a majority of blocks vote for."""
    return (votes(rgb, n_bits) > 0.5).astype(np.uint8)
