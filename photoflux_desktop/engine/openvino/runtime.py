"""Run exported IR in place of the torch modules, so diffusers' own loop (scheduler,
callbacks, previews, cancel between steps) is unchanged.

Each part's `forward` is swapped for one that calls OpenVINO; the part is compiled per
static input shape (the render's size), once, and OpenVINO's model cache
(`<export>/compiled/`) makes the next process's compile quick. The torch UNet's weights
are dropped afterwards (it is the big one); the VAE keeps its small torch shell, whose
conv layers around encoder and decoder still run in torch.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from photoflux_desktop.engine.openvino.calibrate import as_array, flat_unet_inputs
from photoflux_desktop.engine.openvino.choice import physical_cores
from photoflux_desktop.engine.openvino.export import PARTS

Shape = tuple[tuple[int, ...], ...]


class CompiledPart:
    """One IR, compiled lazily per static input shape; thread-safe calls."""

    def __init__(self, xml: Path, threads: int) -> None:
        self.xml = xml
        self.threads = threads or physical_cores()
        self._compiled: dict[Shape, Any] = {}
        self._lock = threading.Lock()

    def ready(self, shapes: Shape) -> bool:
        return shapes in self._compiled

    def compile_for(self, shapes: Shape) -> None:
        import openvino

        if shapes in self._compiled:
            return
        core = openvino.Core()
        core.set_property({"CACHE_DIR": str(self.xml.parent / "compiled")})
        model = core.read_model(self.xml)
        model.reshape(
            {
                port: openvino.PartialShape(list(s))
                for port, s in zip(model.inputs, shapes, strict=True)
            }
        )
        config = {"INFERENCE_NUM_THREADS": self.threads, "INFERENCE_PRECISION_HINT": "f32"}
        compiled = core.compile_model(model, "CPU", config)
        self._compiled[shapes] = (compiled, compiled.create_infer_request())

    def __call__(self, *inputs: Any) -> Any:
        import torch

        arrays = [as_array(value) for value in inputs]
        shapes = tuple(tuple(a.shape) for a in arrays)
        with self._lock:
            if shapes not in self._compiled:
                self.compile_for(shapes)
            _, request = self._compiled[shapes]
            result = request.infer(arrays)
            return torch.from_numpy(np.array(result[0], copy=True))


class OpenVinoParts:
    """The three compiled parts of one exported pipeline."""

    def __init__(self, folder: Path, threads: int) -> None:
        self.folder = folder
        self.export_seconds: float | None = None  # set by the render that exported
        self.weights = "fp32"
        self.parts = {name: CompiledPart(folder / f"{name}.xml", threads) for name in PARTS}

    def attach(self, pipe: Any) -> None:
        """Route the pipeline's UNet, VAE encoder and VAE decoder through OpenVINO and
        free the torch UNet's weights."""
        unet, encoder, decoder = (self.parts[name] for name in PARTS)
        sdxl = hasattr(pipe, "text_encoder_2")
        pipe.unet.forward = _unet_forward(unet, sdxl)
        pipe.vae.encoder.forward = encoder
        pipe.vae.decoder.forward = lambda sample, latent_embeds=None: decoder(sample)
        pipe.unet.to("meta")  # the IR holds the weights now; torch's copy would double RAM
        pipe.unet.openvino_parts = self
        pipe.vae.openvino_parts = self  # a render that swaps in the tiny VAE skips these

    def compile_for(self, shapes: dict[str, Shape]) -> None:
        for name, shape in shapes.items():
            self.parts[name].compile_for(shape)

    def ready(self, shapes: dict[str, Shape]) -> bool:
        return all(self.parts[name].ready(shape) for name, shape in shapes.items())


def _unet_forward(part: CompiledPart, sdxl: bool) -> Any:
    from diffusers.models.unets.unet_2d_condition import UNet2DConditionOutput

    def forward(
        sample: Any,
        timestep: Any,
        encoder_hidden_states: Any,
        *,
        timestep_cond: Any = None,
        added_cond_kwargs: dict[str, Any] | None = None,
        return_dict: bool = True,
        **unused: Any,
    ) -> Any:
        if any(value is not None for value in unused.values()):
            raise RuntimeError(f"OpenVINO UNet cannot take {sorted(unused)}")
        inputs = flat_unet_inputs(
            sample,
            timestep,
            encoder_hidden_states,
            sdxl=sdxl,
            added=added_cond_kwargs,
            timestep_cond=timestep_cond,
        )
        out = part(*inputs)
        return UNet2DConditionOutput(sample=out) if return_dict else (out,)

    return forward


def render_shapes(pipe: Any, width: int, height: int, batch: int) -> dict[str, Shape]:
    """The static input shapes of each part for one render size."""
    config = pipe.unet.config
    scale = int(getattr(pipe, "vae_scale_factor", 8))
    latent = (1, pipe.vae.config.latent_channels, height // scale, width // scale)
    unet: list[tuple[int, ...]] = [
        (batch, config.in_channels, height // scale, width // scale),
        (1,),
        (batch, pipe.tokenizer.model_max_length, config.cross_attention_dim),
    ]
    if hasattr(pipe, "text_encoder_2"):
        time_dim = config.addition_time_embed_dim
        unet += [(batch, pipe.unet.add_embedding.linear_1.in_features - 6 * time_dim), (batch, 6)]
    if config.time_cond_proj_dim:
        unet.append((batch, config.time_cond_proj_dim))
    return {
        "unet": tuple(unet),
        "vae_encoder": ((1, pipe.vae.config.in_channels, height, width),),
        "vae_decoder": (latent,),
    }
