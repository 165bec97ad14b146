"""8-bit weights and activations (w8a8) for one exported part, with NNCF.

Weight-only compression (`int8`) shrinks the IR but still computes in float32; quantizing
the activations too lets OpenVINO run convolutions and matrix products on the CPU's int8
units, which is where the speed is on CPU. The ranges come from calibrate.py's samples.
MIXED: symmetric weights, asymmetric activations (SiLU/GELU outputs are lopsided).
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

_QUIET = threading.Lock()  # stdout is process-wide: one quiet section at a time


@contextlib.contextmanager
def quiet_nncf() -> Iterator[None]:
    """NNCF logs tables and draws progress bars on stdout, where `--json` writes its
    answer. PhotoFlux shows its own progress: the bars are dropped, and NNCF's log
    handlers (bound to stdout when nncf was imported) write warnings to stderr."""
    from nncf.common.logging import nncf_logger

    with _QUIET:
        level = nncf_logger.level
        nncf_logger.setLevel(logging.WARNING)
        handlers = [h for h in nncf_logger.handlers if isinstance(h, logging.StreamHandler)]
        streams = [h.setStream(sys.stderr) for h in handlers]
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                yield
        finally:
            for handler, stream in zip(handlers, streams, strict=True):
                if stream is not None:
                    handler.setStream(stream)
            nncf_logger.setLevel(level)


def compress_weights_int8(model: Any) -> Any:
    """Weight-only 8-bit compression (INT8 asymmetric, per channel), no data needed."""
    import nncf

    with quiet_nncf():
        return nncf.compress_weights(model)


def quantize_w8a8(model: Any, samples: list[list[np.ndarray]]) -> Any:
    """The OpenVINO model with int8 weights and activations, calibrated on `samples`
    (each one list of the model's inputs, in order)."""
    import nncf

    if not samples:
        raise ValueError("no calibration samples were recorded for this part")
    with quiet_nncf():
        return nncf.quantize(
            model,
            nncf.Dataset(samples),
            preset=nncf.QuantizationPreset.MIXED,
            model_type=nncf.ModelType.TRANSFORMER,  # keeps attention's softmax path in float
            subset_size=len(samples),
        )
