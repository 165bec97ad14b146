"""Local diffusion img2img: load (cached), denoise with previews and cancel, decode.

Recovery: an out-of-memory error frees memory, drops the cached pipeline and tries
the next cheaper memory plan, down to the cheapest; transient errors (a busy disk)
are retried a bounded number of times on the same plan.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from photoflux_desktop.engine.devices import MemoryPlan, PlanChoice, choose_plan, detect_device
from photoflux_desktop.engine.diffusion.cache import PipelineCache
from photoflux_desktop.engine.diffusion.decode import decode_latents, unpack_for_preview
from photoflux_desktop.engine.diffusion.loader import PipelineKey, choose_dtype, load_pipeline
from photoflux_desktop.engine.diffusion.memory import free_memory, is_oom, is_transient
from photoflux_desktop.engine.diffusion.params import DiffusionParams, resolve
from photoflux_desktop.engine.diffusion.previews import PreviewDecoder
from photoflux_desktop.engine.errors import Error, ErrorKind, PhotoFluxError, bad_input
from photoflux_desktop.engine.errors import out_of_memory as oom_error
from photoflux_desktop.engine.logging_setup import get_logger
from photoflux_desktop.engine.model_store import LocatedModel, disk_usage, preview_decoder_folder
from photoflux_desktop.engine.presets import Preset
from photoflux_desktop.engine.request import (
    CancelToken,
    Likeness,
    ProgressCallback,
    ProgressEvent,
    RenderRequest,
    RenderResult,
    Stage,
    Status,
    ignore_progress,
)

log = get_logger("photoflux.diffusion")
TRANSIENT_RETRIES = 2
GB = 1024**3


@dataclass(frozen=True)
class _Job:
    """Everything one render needs, fixed for all its plans and retries."""

    request: RenderRequest
    preset: Preset
    located: LocatedModel
    device: Any
    choice: PlanChoice
    on_progress: ProgressCallback
    cancel: CancelToken


@dataclass
class _Attempt:
    """Mutable bookkeeping for one render across plans and retries."""

    timings: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    denoise_started: float | None = None
    steps_run: int = 0


def _default_budget() -> int:
    try:
        import psutil

        return int(psutil.virtual_memory().total * 0.5)
    except ImportError:
        return 8 * GB


class DiffusionRenderer:
    def __init__(self, cache: PipelineCache | None = None, models_dir: Path | None = None) -> None:
        self.cache = cache if cache is not None else PipelineCache(_default_budget())
        self.models_dir = models_dir  # where preview decoders are looked up
        self._previews: dict[tuple[str, str, str], PreviewDecoder] = {}
        self._warmed: set[PipelineKey] = set()

    def forget_model(self, folder: Path) -> int:
        """Evict every cached pipeline loaded from `folder`; how many were evicted."""
        target = Path(folder).resolve()
        return self.cache.evict(lambda key: Path(key.path).resolve() == target)

    def render(
        self,
        request: RenderRequest,
        preset: Preset,
        located: LocatedModel,
        on_progress: ProgressCallback = ignore_progress,
        cancel: CancelToken | None = None,
    ) -> RenderResult:
        if request.likeness is not Likeness.NONE:
            raise bad_input(
                f"Likeness mode '{request.likeness.value}' is not available in this build.",
                "Use --likeness none.",
            )
        cancel = cancel or CancelToken()
        device = detect_device(request.device)
        # catalog models carry VRAM figures; only an unknown folder needs its size read
        weights_gb = 0.0 if located.spec else disk_usage(located.path) / GB
        choice = choose_plan(device, located.spec, weights_gb, request.memory, request.quantize)
        log.info("render_plan", model=located.label, **choice.to_dict())
        attempt = _Attempt()
        job = _Job(request, preset, located, device, choice, on_progress, cancel)
        for plan in choice.ladder:
            for retry in range(TRANSIENT_RETRIES + 1):
                try:
                    return self._render_on(job, plan, attempt)
                except PhotoFluxError:
                    raise
                except Exception as exc:
                    self._recover(located, plan, exc, retry, attempt)
                    if is_oom(exc):
                        break
        raise oom_error(
            f"Ran out of memory on every plan ({', '.join(p.value for p in choice.ladder)}).",
            "Close other GPU programs, lower --max-side, or use --quantize int8.",
            attempts=attempt.failures,
        )

    def _recover(
        self, located: LocatedModel, plan: MemoryPlan, exc: Exception, retry: int, attempt: _Attempt
    ) -> None:
        """Decide whether a failure is worth another try; re-raise when it is not."""
        self.cache.evict(lambda key: key.path == str(located.path))
        free_memory()
        if is_oom(exc):
            attempt.failures.append(f"{plan.value}: out of memory")
            log.warning("render_oom", plan=plan.value, error=str(exc)[:200])
            return
        if is_transient(exc) and retry < TRANSIENT_RETRIES:
            attempt.failures.append(f"{plan.value}: {type(exc).__name__}, retrying")
            log.warning("render_transient_error", plan=plan.value, error=str(exc)[:200])
            time.sleep(0.2 * (retry + 1))
            return
        if is_transient(exc):
            raise PhotoFluxError(
                Error(
                    ErrorKind.INTERNAL,
                    f"Rendering kept failing with {type(exc).__name__}: {exc}",
                    "Check the disk holding the model, then try again.",
                )
            ) from exc
        raise exc

    def _render_on(self, job: _Job, plan: MemoryPlan, attempt: _Attempt) -> RenderResult:
        request, preset, located, device = job.request, job.preset, job.located, job.device
        on_progress, cancel = job.on_progress, job.cancel
        started = time.perf_counter()
        on_progress(ProgressEvent(Stage.LOADING, message=f"Loading {located.label}"))
        key = PipelineKey(
            path=str(located.path),
            family=located.family,
            device=device.torch_device,
            dtype=str(choose_dtype(device, located.family)),
            plan=plan.value,
            quantize=request.quantize,
            loras=tuple((lora.path, lora.weight) for lora in request.loras),
            compile=request.compile,
        )
        base, cached, weights = self.cache.get(
            key,
            lambda: load_pipeline(
                located,
                device,
                plan,
                quantize=request.quantize,
                loras=request.loras,
                compile_denoiser=request.compile,
            ),
        )
        attempt.timings["load"] = time.perf_counter() - started
        # schedulers hold per-run state: every job gets its own over shared weights
        pipe = type(base).from_pipe(
            base, scheduler=type(base.scheduler).from_config(base.scheduler.config)
        )
        pipe.set_progress_bar_config(disable=True)
        params = resolve(request, preset, located, _size_multiple(pipe, located.family))
        if cancel.cancelled:
            return self._cancelled(located, plan, params, attempt)
        if request.compile and key not in self._warmed:
            warm_started = time.perf_counter()
            self._warm_up(pipe, located, params)
            attempt.timings["compile_warmup"] = time.perf_counter() - warm_started
            self._warmed.add(key)
        latents = self._denoise(pipe, job, params, attempt)
        if cancel.cancelled:
            return self._cancelled(located, plan, params, attempt)
        on_progress(ProgressEvent(Stage.DECODING, attempt.steps_run, attempt.steps_run))
        decode_started = time.perf_counter()
        image = decode_latents(pipe, located.family, latents, params.height, params.width)
        attempt.timings["decode"] = time.perf_counter() - decode_started
        image = image.resize(request.image.size, Image.Resampling.LANCZOS)
        attempt.timings["total"] = time.perf_counter() - started
        on_progress(ProgressEvent(Stage.DONE, attempt.steps_run, attempt.steps_run, preview=image))
        return RenderResult(
            status=Status.COMPLETED,
            image=image,
            seed=params.seed,
            backend="diffusion",
            model=located.label,
            parameters={
                "style": preset.id,
                "family": located.family,
                "subject": request.prompt,
                **params.describe(),
                "steps_run": attempt.steps_run,
                "quantize": request.quantize,
                "loras": [lora.path for lora in request.loras],
            },
            timings=dict(attempt.timings),
            memory_plan=plan.value,
            report=self._report(job.choice, attempt, cached, weights, device),
            notes=params.notes,
        )

    def _denoise(
        self, pipe: Any, job: _Job, params: DiffusionParams, attempt: _Attempt
    ) -> torch.Tensor:
        located, cancel, on_progress = job.located, job.cancel, job.on_progress
        previews = self._preview_decoder(pipe, located) if job.request.previews else None
        denoiser = getattr(pipe, "unet", None) or pipe.transformer
        attempt.denoise_started = None

        @torch.compiler.disable  # bookkeeping, not part of a compiled graph
        def first_forward(module: Any, args: Any) -> None:
            if attempt.denoise_started is None:
                attempt.denoise_started = time.perf_counter()

        def on_step_end(running: Any, step: int, timestep: Any, kwargs: dict[str, Any]) -> dict:
            attempt.steps_run = step + 1
            if cancel.cancelled:
                running._interrupt = True  # the loop skips the remaining steps
                return kwargs
            preview = None
            if previews is not None:
                raw = unpack_for_preview(running, located.family, kwargs["latents"], params)
                preview = previews.decode(raw, (params.width, params.height))
            on_progress(
                ProgressEvent(Stage.DENOISING, step + 1, running.num_timesteps, preview=preview)
            )
            return kwargs

        on_progress(ProgressEvent(Stage.ENCODING, 0, params.denoising_steps))
        hook = denoiser.register_forward_pre_hook(first_forward)
        call_started = time.perf_counter()
        try:
            with torch.inference_mode():
                output = pipe(
                    **_call_kwargs(pipe, located, params, job.request.image),
                    callback_on_step_end=on_step_end,
                    callback_on_step_end_tensor_inputs=["latents"],
                )
        finally:
            hook.remove()
        ended = time.perf_counter()
        first = attempt.denoise_started or ended
        attempt.timings["encode"] = first - call_started
        attempt.timings["denoise"] = ended - first
        return output.images

    def _cancelled(
        self, located: LocatedModel, plan: MemoryPlan, params: DiffusionParams, attempt: _Attempt
    ) -> RenderResult:
        free_memory(collect=False)  # tensors die with their references; no GIL-long GC
        return RenderResult(
            status=Status.CANCELLED,
            image=None,
            seed=params.seed,
            backend="diffusion",
            model=located.label,
            parameters={**params.describe(), "steps_run": attempt.steps_run},
            timings=dict(attempt.timings),
            memory_plan=plan.value,
        )

    def _preview_decoder(self, pipe: Any, located: LocatedModel) -> PreviewDecoder:
        decoder_id = located.spec.preview_decoder if located.spec else None
        folder = preview_decoder_folder(decoder_id, self.models_dir) if decoder_id else None
        device = str(pipe.vae.device)
        cache_key = (located.family, str(folder), device)
        if cache_key not in self._previews:
            self._previews[cache_key] = PreviewDecoder(
                located.family, folder, device, pipe.vae.dtype
            )
        return self._previews[cache_key]

    def _warm_up(self, pipe: Any, located: LocatedModel, params: DiffusionParams) -> None:
        """torch.compile compiles on first call: pay it with one throwaway step, called
        with the same shapes (size, sequence length) as the real render."""
        image = Image.new("RGB", (params.width, params.height), (128, 128, 128))
        with torch.inference_mode():
            pipe(**_call_kwargs(pipe, located, replace(params, steps=1, strength=1.0), image))

    def _report(
        self, choice: PlanChoice, attempt: _Attempt, cached: bool, weights: int, device: Any
    ) -> dict[str, Any]:
        report: dict[str, Any] = {
            "pipeline_cached": cached,
            "plan_reason": choice.reason,
            "failed_attempts": list(attempt.failures),
            "weights_mb": round(weights / 2**20, 1),
            "device": device.name,
        }
        if device.kind == "cuda":
            report["peak_vram_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        return report


def _size_multiple(pipe: Any, family: str) -> int:
    scale = int(getattr(pipe, "vae_scale_factor", 8))
    if family == "flux":
        return scale * 2  # latents are packed in 2×2 patches
    down = 2 ** (len(pipe.unet.config.block_out_channels) - 1)
    return scale * down


def _call_kwargs(
    pipe: Any, located: LocatedModel, params: DiffusionParams, image: Image.Image
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "prompt": params.prompt,
        "image": image.resize((params.width, params.height), Image.Resampling.LANCZOS),
        "strength": params.strength,
        "num_inference_steps": params.steps,
        "guidance_scale": params.guidance,
        "generator": torch.Generator("cpu").manual_seed(params.seed),
        "output_type": "latent",  # decode ourselves: skipped on cancel, timed apart
    }
    if located.family == "flux":
        spec_extra = located.spec.extra if located.spec else {}
        tokenizer_max = getattr(pipe.tokenizer_2, "model_max_length", 512)
        kwargs.update(
            height=params.height,
            width=params.width,
            max_sequence_length=int(spec_extra.get("max_sequence_length", min(512, tokenizer_max))),
        )
    elif params.negative_prompt:
        kwargs["negative_prompt"] = params.negative_prompt
    return kwargs
