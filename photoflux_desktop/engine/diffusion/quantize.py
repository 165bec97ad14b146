"""Weight quantization of the denoiser and text encoders with optimum-quanto."""

from __future__ import annotations

from typing import Any

from photoflux_desktop.engine.errors import bad_input

_DENOISERS = ("unet", "transformer")
_TEXT_ENCODERS = ("text_encoder", "text_encoder_2")


def quantize_pipeline(pipe: Any, mode: str) -> list[str]:
    """Quantize weights in place; returns the components that were quantized.

    Call the result under `torch.no_grad()`, not `torch.inference_mode()`: 4-bit weights
    take views of tensors made outside inference mode, which inference mode refuses
    (optimum-quanto#304), and never cast the quantized modules (`.to(dtype)` fails)."""
    if mode == "none":
        return []
    if mode == "w8a8":
        raise bad_input(
            "--quantize w8a8 runs on the OpenVINO backend only.",
            "Use --backend openvino (a CPU), or --quantize int8 on torch.",
            gui_hint="Choose int8 or none under Settings ▸ Quantization.",
        )
    from optimum.quanto import freeze, qfloat8, qint4, qint8, quantize

    weights = {"int8": qint8, "fp8": qfloat8, "int4": qint4}.get(mode)
    if weights is None:
        raise bad_input(f"Unknown quantization '{mode}'.", "Use none, int8, fp8 or int4.")
    done = []
    for name in _DENOISERS + _TEXT_ENCODERS:
        module = getattr(pipe, name, None)
        if module is None:
            continue
        # 4-bit text encoders lose too much: they get int8 when int4 is asked for
        chosen = qint8 if (weights is qint4 and name in _TEXT_ENCODERS) else weights
        try:
            quantize(module, weights=chosen)
            freeze(module)
        except (RuntimeError, ValueError, NotImplementedError, AssertionError) as exc:
            raise bad_input(
                f"{mode} quantization is not supported for this model's {name} here: {exc}",
                "Try --quantize int8, or none.",
            ) from exc
        done.append(name)
    return done
