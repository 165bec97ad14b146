"""Export a diffusers pipeline's UNet and VAE to OpenVINO IR, once per model revision.

The IR lives inside the model's own folder (`<model>/.openvino/<key>/`), so deleting
the model deletes it. The key hashes what defines the weights (each part's config and
the size and date of its weight files), the weight mode and the OpenVINO version; the
IR keeps dynamic shapes and runtime.py reshapes it to the render's static size, so one
export serves every size. Cancel is honoured between phases (calibrate, trace, compress,
save); a phase itself runs to its end. A failed export is a PhotoFluxError naming the model.

Weight modes: "fp32"; "int8", the UNet's weights compressed to 8 bits (NNCF, no data);
"w8a8", every part quantized to 8-bit weights and activations, with activation ranges
measured on a few sample renders (calibrate.py), which lets the CPU's int8 units
(VNNI/AMX) do the convolutions.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from photoflux_desktop.engine.errors import Error, ErrorKind, PhotoFluxError
from photoflux_desktop.engine.logging_setup import get_logger
from photoflux_desktop.engine.openvino.calibrate import (
    CALIBRATION_VERSION,
    CalibrationCancelled,
    Samples,
    calibration_side,
    collect_samples,
)
from photoflux_desktop.engine.openvino.quantize import compress_weights_int8, quantize_w8a8
from photoflux_desktop.engine.request import CancelToken

log = get_logger("photoflux.openvino")
PARTS = ("unet", "vae_encoder", "vae_decoder")
Say = Callable[[str], None]


class ExportCancelled(Exception):
    """Cancel seen between export phases; nothing half-written is left behind."""


def export_key(model_path: Path, weights: str) -> str:
    """Changes when the UNet or VAE weights change, or the weight mode, OpenVINO or the
    w8a8 calibration recipe does."""
    import openvino

    # w8a8's ranges also depend on how they were measured
    recipe = ""
    if weights == "w8a8":
        import nncf

        recipe = f"|calibration-{CALIBRATION_VERSION}|nncf-{nncf.__version__}"
    digest = hashlib.sha256(f"{weights}|{openvino.get_version()}{recipe}".encode())
    for part in ("unet", "vae"):
        folder = model_path / part
        for path in sorted(folder.glob("*")) if folder.is_dir() else ():
            if path.name == "config.json":
                digest.update(path.read_bytes())
            elif path.is_file():
                stat = path.stat()
                digest.update(f"{path.name}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return f"{weights}-{digest.hexdigest()[:16]}"


def export_folder(model_path: Path, weights: str) -> Path:
    return model_path / ".openvino" / export_key(model_path, weights)


def is_exported(folder: Path) -> bool:
    return all((folder / f"{part}.xml").is_file() for part in PARTS)


def export_failed(label: str, exc: BaseException, weights: str = "fp32") -> PhotoFluxError:
    way = (
        "Render it without w8a8: --quantize int8 or none (the setting 'quantize')."
        if weights == "w8a8"  # torch cannot take w8a8, so "use torch" alone would fail too
        else "Render it with --backend torch (the setting 'backend: torch')."
    )
    return PhotoFluxError(
        Error(
            ErrorKind.INTERNAL,
            f"The model '{label}' could not be exported to OpenVINO: "
            f"{type(exc).__name__}: {str(exc)[:300]}",
            way,
        )
    )


def export_pipeline(
    pipe: Any,
    folder: Path,
    *,
    weights: str,
    label: str,
    cancel: CancelToken,
    say: Say,
) -> None:
    """Write unet/vae_encoder/vae_decoder IR into `folder` (atomically: a temporary
    folder of this process renamed at the end, so two processes exporting the same model,
    e.g. two render workers, never read or delete each other's half-written files).
    Raises ExportCancelled or a PhotoFluxError."""
    partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    partial.mkdir(parents=True)
    try:
        samples = _calibration(pipe, cancel, say) if weights == "w8a8" else {}
        for name, module, example in _parts(pipe):
            # int8 compresses only the UNet: the VAE's weights are small and its quality shows
            mode = "fp32" if weights == "int8" and name != "unet" else weights
            _export_part(
                name,
                module,
                example,
                partial,
                mode=mode,
                samples=samples.get(name),
                cancel=cancel,
                say=say,
            )
        _publish(partial, folder)
    except (ExportCancelled, CalibrationCancelled):
        shutil.rmtree(partial, ignore_errors=True)
        raise ExportCancelled from None
    except PhotoFluxError:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    except Exception as exc:
        shutil.rmtree(partial, ignore_errors=True)
        log.warning("openvino_export_failed", model=label, error=repr(exc)[:300])
        raise export_failed(label, exc, weights) from exc


def _publish(partial: Path, folder: Path) -> None:
    """Move a finished export into place, unless another process got there first (then
    theirs is used and ours dropped: the same model gives the same IR)."""
    if is_exported(folder):
        shutil.rmtree(partial, ignore_errors=True)
        return
    shutil.rmtree(folder, ignore_errors=True)  # an incomplete leftover of a crash
    try:
        partial.rename(folder)
    except OSError:  # another process renamed its export in between
        shutil.rmtree(partial, ignore_errors=True)
        if not is_exported(folder):
            raise


def _calibration(pipe: Any, cancel: CancelToken, say: Say) -> Samples:
    unet, scale = pipe.unet.config, int(getattr(pipe, "vae_scale_factor", 8))
    native = unet.sample_size * scale if isinstance(unet.sample_size, int) else None
    side = calibration_side(native, scale * 2 ** (len(unet.block_out_channels) - 1))
    return collect_samples(pipe, side, cancel, say)


def _export_part(
    name: str,
    module: Any,
    example: tuple[Any, ...],
    folder: Path,
    *,
    mode: str,
    samples: list[list[Any]] | None,
    cancel: CancelToken,
    say: Say,
) -> None:
    import openvino
    import torch

    if cancel.cancelled:
        raise ExportCancelled
    say(f"Converting the {name.replace('_', ' ')} to OpenVINO (first time only)…")
    if cancel.cancelled:  # e.g. cancelled on seeing that an export is due
        raise ExportCancelled
    with torch.no_grad():
        model = openvino.convert_model(module, example_input=example)
    if cancel.cancelled:
        raise ExportCancelled
    if mode == "int8":
        say(f"Compressing the {name} weights to 8 bits…")
        model = compress_weights_int8(model)
    elif mode == "w8a8":
        say(f"Quantizing the {name.replace('_', ' ')} to 8 bits…")
        model = quantize_w8a8(model, samples or [])
    if cancel.cancelled:
        raise ExportCancelled
    # float32 on disk: fp16 storage would round the weights the float32 path promises
    openvino.save_model(model, folder / f"{name}.xml", compress_to_fp16=False)
    del model


class _FlatUNet:
    """The UNet with plain tensor inputs (the IR cannot take diffusers' kwargs dicts)."""

    @staticmethod
    def build(unet: Any, sdxl: bool, cond: bool) -> Any:
        import torch

        class Flat(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.unet = unet

            def forward(self, sample: Any, timestep: Any, hidden: Any, *extra: Any) -> Any:
                extra_list = list(extra)
                added = None
                if sdxl:
                    added = {"text_embeds": extra_list.pop(0), "time_ids": extra_list.pop(0)}
                timestep_cond = extra_list.pop(0) if cond else None
                return self.unet(
                    sample,
                    timestep,
                    hidden,
                    timestep_cond=timestep_cond,
                    added_cond_kwargs=added,
                    return_dict=False,
                )[0]

        return Flat()


def unet_example(pipe: Any, sdxl: bool) -> tuple[Any, ...]:
    """Example inputs at a small size: the IR keeps height and width dynamic."""
    import torch

    config = pipe.unet.config
    example: list[Any] = [
        torch.randn(1, config.in_channels, 16, 16),
        torch.tensor([500.0]),
        torch.randn(1, pipe.tokenizer.model_max_length, config.cross_attention_dim),
    ]
    if sdxl:
        time_dim = config.addition_time_embed_dim
        text_dim = pipe.unet.add_embedding.linear_1.in_features - 6 * time_dim
        example += [torch.randn(1, text_dim), torch.tensor([[512.0, 512, 0, 0, 512, 512]])]
    if config.time_cond_proj_dim:
        example.append(torch.randn(1, config.time_cond_proj_dim))
    return tuple(example)


def _parts(pipe: Any) -> list[tuple[str, Any, tuple[Any, ...]]]:
    import torch

    sdxl = hasattr(pipe, "text_encoder_2")
    cond = bool(pipe.unet.config.time_cond_proj_dim)
    vae = pipe.vae
    scale = 2 ** (len(vae.config.block_out_channels) - 1)
    image = torch.randn(1, vae.config.in_channels, 16 * scale, 16 * scale)
    latents = torch.randn(1, vae.config.latent_channels, 16, 16)
    return [
        ("unet", _FlatUNet.build(pipe.unet, sdxl, cond), unet_example(pipe, sdxl)),
        ("vae_encoder", vae.encoder, (image,)),
        ("vae_decoder", vae.decoder, (latents,)),
    ]
