"""The diffusion renderer with OpenVINO doing the heavy parts.

Everything but the loading and the per-size preparation is DiffusionRenderer's: the
same diffusers loop (scheduler, step callback with previews, cancel within one step),
the same decode, RenderResult, timings and report. On a cache miss the torch pipeline
is loaded, its UNet and VAE exported once (export.py) and swapped for OpenVINO
(runtime.py); before the first render at a size the parts are compiled for it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from photoflux_desktop.engine.devices import MemoryPlan
from photoflux_desktop.engine.diffusion.loader import LoadCancelled, load_pipeline
from photoflux_desktop.engine.diffusion.params import DiffusionParams
from photoflux_desktop.engine.diffusion.renderer import DiffusionRenderer, _Attempt, _Job
from photoflux_desktop.engine.openvino.export import (
    ExportCancelled,
    export_folder,
    export_pipeline,
    is_exported,
)
from photoflux_desktop.engine.openvino.runtime import OpenVinoParts, render_shapes
from photoflux_desktop.engine.request import ProgressEvent, Stage


class OpenVinoRenderer(DiffusionRenderer):
    def __init__(self, models_dir: Path | None = None, threads: int = 0) -> None:
        super().__init__(models_dir=models_dir)
        self.threads = threads  # 0: every physical core
        self._parts_of: dict[int, OpenVinoParts] = {}  # per attempt, for its report
        self.exports = 0  # how many exports this renderer ran (tests: a cached one is reused)

    def _load(self, job: _Job, plan: MemoryPlan) -> Any:
        pipe = load_pipeline(job.located, job.device, MemoryPlan.FULL, cancel=job.cancel)
        quantize = job.request.quantize.value
        weights = quantize if quantize in ("int8", "w8a8") else "fp32"
        folder = export_folder(job.located.path, weights)
        seconds = None
        if not is_exported(folder):
            started = time.perf_counter()
            try:
                export_pipeline(
                    pipe,
                    folder,
                    weights=weights,
                    label=job.located.label,
                    cancel=job.cancel,
                    say=lambda text: job.on_progress(ProgressEvent(Stage.WARMUP, message=text)),
                )
            except ExportCancelled:
                raise LoadCancelled from None
            self.exports += 1
            seconds = time.perf_counter() - started
        parts = OpenVinoParts(folder, self.threads)
        parts.attach(pipe)
        parts.export_seconds = seconds
        parts.weights = weights
        return pipe

    def _prepare(
        self,
        pipe: Any,
        job: _Job,
        params: DiffusionParams,
        attempt: _Attempt,
        extra: dict[str, Any],
    ) -> bool:
        parts: OpenVinoParts = pipe.unet.openvino_parts
        self._parts_of[id(attempt)] = parts
        if parts.export_seconds is not None:  # reported once, by the render that exported
            attempt.timings["openvino_export"] = parts.export_seconds
            parts.export_seconds = None
        guided = params.guidance > 1 and not pipe.unet.config.time_cond_proj_dim
        shapes = render_shapes(pipe, params.width, params.height, 2 if guided else 1)
        if getattr(pipe.vae, "openvino_parts", None) is not parts:  # the tiny VAE runs
            shapes = {"unet": shapes["unet"]}
        elif job.request.image is None:  # text-to-image encodes no photo
            shapes.pop("vae_encoder")
        if parts.ready(shapes):
            return not job.cancel.cancelled
        message = (
            f"Preparing OpenVINO for {params.width}×{params.height} (first time at this size)…"
        )
        job.on_progress(ProgressEvent(Stage.WARMUP, message=message))
        if job.cancel.cancelled:
            return False
        started = time.perf_counter()
        parts.compile_for(shapes)
        attempt.timings["openvino_compile"] = time.perf_counter() - started
        return not job.cancel.cancelled

    def _report(
        self, job: _Job, plan: MemoryPlan, attempt: _Attempt, cached: bool, weights: int
    ) -> dict[str, Any]:
        report = super()._report(job, plan, attempt, cached, weights)
        parts = self._parts_of.pop(id(attempt), None)
        if parts is not None:
            report["openvino"] = {
                "weights": parts.weights,
                "threads": parts.parts["unet"].threads,
                "ir": str(parts.folder),
            }
        return report
