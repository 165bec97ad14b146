"""Local diffusion img2img: load (cached), denoise with previews and cancel, decode.

Recovery: an out-of-memory error drops every cached pipeline on the device, frees
memory (outside the `except` block, whose traceback would keep the failed pipeline
alive) and tries the next cheaper memory plan, down to the cheapest; transient errors
(a busy disk) are retried a bounded number of times on the same plan. The plan that
succeeded is remembered (plan_memory.py), so the next render starts there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import torch
from PIL import Image

from photoflux_desktop.engine.devices import MemoryPlan, PlanChoice, choose_plan, detect_device
from photoflux_desktop.engine.diffusion.cache import PipelineCache
from photoflux_desktop.engine.diffusion.decode import decode_latents, unpack_for_preview
from photoflux_desktop.engine.diffusion.fast_vae import FastVaes, fast_vae_folder, missing_note
from photoflux_desktop.engine.diffusion.likeness_pipes import likeness_call_kwargs
from photoflux_desktop.engine.diffusion.loader import (
    LoadCancelled,
    PipelineKey,
    choose_dtype,
    job_pipeline,
    likeness_key,
    load_pipeline,
    lora_files,
    lora_weights_applied,
)
from photoflux_desktop.engine.diffusion.memory import (
    execution_device,
    free_memory,
    is_oom,
    is_transient,
)
from photoflux_desktop.engine.diffusion.params import DiffusionParams, resolve
from photoflux_desktop.engine.diffusion.plan_memory import PlanKey, PlanMemory, size_class
from photoflux_desktop.engine.diffusion.previews import PreviewDecoder
from photoflux_desktop.engine.diffusion.text_to_image import text_pipeline
from photoflux_desktop.engine.errors import Error, ErrorKind, PhotoFluxError
from photoflux_desktop.engine.errors import out_of_memory as oom_error
from photoflux_desktop.engine.likeness import LikenessPlan, plan_likeness
from photoflux_desktop.engine.logging_setup import get_logger
from photoflux_desktop.engine.lora_family import check_lora_fits
from photoflux_desktop.engine.model_store import LocatedModel, disk_usage, preview_decoder_folder
from photoflux_desktop.engine.presets import Preset
from photoflux_desktop.engine.request import (
    CancelToken,
    ProgressCallback,
    ProgressEvent,
    RenderParameters,
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
    likeness: LikenessPlan | None = None


@dataclass
class _Attempt:
    """Mutable bookkeeping for one render across plans and retries."""

    timings: dict[str, float] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)  # report["attempts"]
    denoise_started: float | None = None
    steps_run: int = 0
    autoencoder: str = "full"  # "tiny": the fast autoencoder ran (fast_vae.py)
    notes: list[str] = field(default_factory=list)

    def record(self, plan: MemoryPlan, outcome: str, error: str | None = None) -> None:
        self.log.append({"plan": plan.value, "outcome": outcome, "error": error})

    @property
    def failures(self) -> list[str]:
        """The log as the older one-line form ("plan: what happened"), kept for
        `failed_attempts` in reports and errors."""
        lines = []
        for entry in self.log:
            if entry["outcome"] == "out_of_memory":
                lines.append(f"{entry['plan']}: out of memory")
            elif entry["outcome"] == "retry":
                kind = str(entry["error"]).split(":", 1)[0]
                lines.append(f"{entry['plan']}: {kind}, retrying")
        return lines


class DiffusionRenderer:
    def __init__(
        self,
        cache: PipelineCache | None = None,
        plans: PlanMemory | None = None,
        models_dir: Path | None = None,
    ) -> None:
        # no fixed budget: each pool is budgeted from the device that renders (cache.py)
        self.cache = cache if cache is not None else PipelineCache()
        self.plans = plans if plans is not None else PlanMemory()
        self.models_dir = models_dir  # where preview decoders are looked up
        self._previews: dict[tuple[str, str, str], PreviewDecoder] = {}
        # shapes each compiled denoiser has been warmed up at; keyed by the module itself,
        # so a pipeline reloaded after eviction (a fresh, uncompiled module) warms up again
        self._warmed: WeakKeyDictionary[Any, set[tuple[Any, ...]]] = WeakKeyDictionary()
        self.fast_vaes = FastVaes()

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
        cancel = cancel or CancelToken()
        if cancel.cancelled:  # nothing has started: no device probe, no model load
            return self._cancelled(
                request, preset, located, plan=None, params=None, attempt=_Attempt()
            )
        # refused before any model loads: a LoRA made for another family
        for lora in request.loras:
            check_lora_fits(lora.path, located.family, located.path, located.label)
        # likeness add-ons are found (or refused with the download to run) before loading
        likeness = plan_likeness(
            request.likeness,
            located.family,
            located.label,
            request.likeness_strength,
            self.models_dir,
        )
        device = detect_device(request.device)
        # catalog models carry VRAM figures; only an unknown folder needs its size read
        weights_gb = 0.0 if located.spec else disk_usage(located.path) / GB
        choice = choose_plan(device, located.spec, weights_gb, request.memory, request.quantize)
        plan_key = _plan_key(request, located, device)
        if request.memory == "auto":
            remembered = self.plans.recall(plan_key, device)
            if remembered is not None:
                choice = choice.starting_at(
                    remembered, f"'{remembered.value}' worked last time on {device.name}"
                )
        log.info("render_plan", model=located.label, **choice.to_dict())
        attempt = _Attempt()
        job = _Job(request, preset, located, device, choice, on_progress, cancel, likeness)
        for plan in choice.ladder:
            retry = 0
            while True:
                outcome = "ok"
                try:
                    result = self._render_on(job, plan, attempt)
                except PhotoFluxError:
                    raise
                except Exception as exc:
                    # only bookkeeping here: the traceback pins the failed pipeline's
                    # frames until this block is left, so nothing could be freed yet
                    outcome = self._classify(plan, exc, retry, attempt)
                if outcome == "ok":
                    self._learn(job, plan_key, plan, result)
                    return result
                self._recover(job, plan, outcome, retry)  # outside the except: frees for real
                if outcome == "out_of_memory":
                    break
                retry += 1
        raise oom_error(
            f"Ran out of memory on every plan ({', '.join(p.value for p in choice.ladder)}).",
            "Close other GPU programs, lower --max-side, or use --quantize int8.",
            attempts=attempt.failures,
            attempt_log=attempt.log,
        )

    def _classify(self, plan: MemoryPlan, exc: Exception, retry: int, attempt: _Attempt) -> str:
        """Record a failure and say what to do next ("out_of_memory" or "retry");
        re-raise when it is not worth another try. Keeps nothing that refers to `exc`."""
        error = f"{type(exc).__name__}: {str(exc)[:200]}"
        if is_oom(exc):
            attempt.record(plan, "out_of_memory", error)
            log.warning("render_oom", plan=plan.value, error=error)
            return "out_of_memory"
        if is_transient(exc) and retry < TRANSIENT_RETRIES:
            attempt.record(plan, "retry", error)
            log.warning("render_transient_error", plan=plan.value, error=error)
            return "retry"
        if is_transient(exc):
            raise PhotoFluxError(
                Error(
                    ErrorKind.INTERNAL,
                    f"Rendering kept failing with {type(exc).__name__}: {exc}",
                    "Check the disk holding the model, then try again.",
                )
            ) from exc
        raise exc

    def _recover(self, job: _Job, plan: MemoryPlan, outcome: str, retry: int) -> None:
        """Free what the failed attempt held, before the next one loads anything.

        Out of memory: every pipeline cached on this device goes (the next plan needs
        the room more than a cache hit needs them). A transient error drops only this
        model's entries, which a half-finished load may have left broken."""
        if outcome == "out_of_memory":
            target = job.device.torch_device
            dropped = self.cache.evict(lambda key: key.device == target, collect=False)
            log.info("render_oom_evicted", plan=plan.value, pipelines=dropped)
        else:
            path = str(job.located.path)
            self.cache.evict(lambda key: key.path == path, collect=False)
            time.sleep(0.2 * (retry + 1))
        free_memory()

    def _learn(self, job: _Job, key: PlanKey, plan: MemoryPlan, result: RenderResult) -> None:
        """Remember the plan a finished render succeeded on (rules: plan_memory.py)."""
        if result.status is not Status.COMPLETED:
            return  # a cancelled render proved nothing about the plan
        stepped_down = any(a["outcome"] == "out_of_memory" for a in result.report["attempts"])
        if job.request.memory == "auto" or stepped_down:
            self.plans.remember(key, plan, job.device)

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
            quantize=request.quantize.value,
            loras=lora_files(request.loras),
            compile=request.compile,
            likeness=likeness_key(job.likeness),
        )
        try:
            base, cached, weights = self.cache.get(
                key,
                lambda: self._load(job, plan),
                device,
                int(job.choice.estimates_gb.get("full", 0.0) * GB),  # room to make first
            )
        except LoadCancelled:
            attempt.timings["load"] = time.perf_counter() - started
            return self._cancelled(
                request, preset, located, plan=plan, params=None, attempt=attempt
            )
        attempt.timings["load"] = time.perf_counter() - started
        # its own scheduler over the shared weights
        pipe = (
            job_pipeline(base) if request.image is not None else text_pipeline(base, located.family)
        )
        self._choose_autoencoder(pipe, job, attempt)
        params = resolve(
            _with_likeness_strength(request, job.likeness),
            preset,
            located,
            _size_multiple(pipe, located.family),
            _native_px(pipe),
        )
        if cancel.cancelled:
            return self._cancelled(
                request, preset, located, plan=plan, params=params, attempt=attempt
            )
        condition_started = time.perf_counter()
        extra = (
            likeness_call_kwargs(
                pipe, job.likeness, _at_render_size(request.image, params), params.denoising_steps
            )
            if job.likeness is not None
            else {}
        )
        if job.likeness is not None:
            attempt.timings["likeness_condition"] = time.perf_counter() - condition_started
        if not self._prepare(pipe, job, params, attempt, extra):
            return self._cancelled(
                request, preset, located, plan=plan, params=params, attempt=attempt
            )
        latents = self._denoise(pipe, job, params, attempt, extra)  # None: cancelled first
        if cancel.cancelled:
            return self._cancelled(
                request, preset, located, plan=plan, params=params, attempt=attempt
            )
        on_progress(ProgressEvent(Stage.DECODING, attempt.steps_run, attempt.steps_run))
        decode_started = time.perf_counter()
        image = decode_latents(pipe, located.family, latents, params.height, params.width)
        attempt.timings["decode"] = time.perf_counter() - decode_started
        if request.image is not None:  # back to the photo's own size
            image = image.resize(request.image.size, Image.Resampling.LANCZOS)
        attempt.timings["total"] = time.perf_counter() - started
        on_progress(ProgressEvent(Stage.DONE, attempt.steps_run, attempt.steps_run, preview=image))
        return RenderResult(
            status=Status.COMPLETED,
            image=image,
            parameters=_parameters(
                request, preset, located, params, attempt, likeness=job.likeness
            ),
            timings=dict(attempt.timings),
            memory_plan=plan.value,
            report=self._report(job, plan, attempt, cached, weights),
            notes=params.notes + tuple(attempt.notes),
        )

    def _choose_autoencoder(self, pipe: Any, job: _Job, attempt: _Attempt) -> None:
        """The job pipeline's VAE becomes the tiny one when it is asked for and installed
        (the cached pipeline keeps the full VAE); otherwise a note says why not."""
        attempt.autoencoder = "full"
        if not job.request.fast_vae:
            return
        folder = fast_vae_folder(job.located, self.models_dir)
        if folder is None:
            note = missing_note(job.located)
            if note not in attempt.notes:
                attempt.notes.append(note)
            return
        device = execution_device(pipe, job.device.torch_device)
        pipe.vae = self.fast_vaes.get(folder, device, pipe.vae.dtype)
        attempt.autoencoder = "tiny"

    def _load(self, job: _Job, plan: MemoryPlan) -> Any:
        """A new pipeline for `job` on `plan` (the cache calls this on a miss)."""
        request = job.request
        return load_pipeline(
            job.located,
            job.device,
            plan,
            quantize=request.quantize.value,
            loras=request.loras,
            compile_denoiser=request.compile,
            cancel=job.cancel,
            likeness=job.likeness,
        )

    def _prepare(
        self,
        pipe: Any,
        job: _Job,
        params: DiffusionParams,
        attempt: _Attempt,
        extra: dict[str, Any],
    ) -> bool:
        """Work due before the denoise at this size (torch.compile's warm-up here);
        False when the render was cancelled meanwhile."""
        if not job.request.compile:
            return True
        return self._warm_up(pipe, job, params, attempt, extra)

    def _denoise(
        self,
        pipe: Any,
        job: _Job,
        params: DiffusionParams,
        attempt: _Attempt,
        extra: dict[str, Any],
    ) -> torch.Tensor | None:
        located, cancel, on_progress = job.located, job.cancel, job.on_progress
        wants_previews = job.request.previews
        previews = self._preview_decoder(pipe, located, job.device) if wants_previews else None
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
        if cancel.cancelled:  # before the prompt and photo are encoded
            return None
        hook = denoiser.register_forward_pre_hook(first_forward)
        call_started = time.perf_counter()
        try:
            with _grad_free(), lora_weights_applied(pipe, job.request.loras):
                output = pipe(
                    **_call_kwargs(pipe, located, params, job.request.image),
                    **extra,
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
        self,
        request: RenderRequest,
        preset: Preset,
        located: LocatedModel,
        *,
        plan: MemoryPlan | None,
        params: DiffusionParams | None,
        attempt: _Attempt,
    ) -> RenderResult:
        """The one way a cancelled diffusion render ends: a result, never a raise."""
        free_memory(collect=False)  # tensors die with their references; no GIL-long GC
        return RenderResult(
            status=Status.CANCELLED,
            image=None,
            parameters=_parameters(request, preset, located, params, attempt),
            timings=dict(attempt.timings),
            memory_plan=plan.value if plan else None,
        )

    def _preview_decoder(self, pipe: Any, located: LocatedModel, info: Any) -> PreviewDecoder:
        decoder_id = located.spec.preview_decoder if located.spec else None
        folder = preview_decoder_folder(decoder_id, self.models_dir) if decoder_id else None
        # the device the steps compute on, under every plan (offload included)
        device = execution_device(pipe, info.torch_device)
        cache_key = (located.family, str(folder), device)
        if cache_key not in self._previews:
            self._previews[cache_key] = PreviewDecoder(
                located.family, folder, device, pipe.vae.dtype
            )
        return self._previews[cache_key]

    def _warm_up(
        self,
        pipe: Any,
        job: _Job,
        params: DiffusionParams,
        attempt: _Attempt,
        extra: dict[str, Any],
    ) -> bool:
        """torch.compile compiles on a shape's first call: pay it once per shape in a
        visible WARMUP stage (a throwaway one-step call with the render's own shapes), so
        `denoise` never includes compilation. False when the render was cancelled."""
        denoiser = getattr(pipe, "unet", None) or pipe.transformer
        warm_params = replace(params, steps=1, strength=1.0)
        call = {**_call_kwargs(pipe, job.located, warm_params, job.request.image), **extra}
        shape = _compile_shape(job.request, params, call)
        shapes = self._warmed.setdefault(denoiser, set())
        if shape in shapes:
            return True
        if job.cancel.cancelled:
            return False
        message = f"Compiling for {params.width}×{params.height} (first time at this size)…"
        job.on_progress(ProgressEvent(Stage.WARMUP, message=message))
        if job.cancel.cancelled:  # e.g. cancelled on seeing that a compile is due
            return False

        def on_step_end(running: Any, step: int, timestep: Any, kwargs: dict[str, Any]) -> dict:
            if job.cancel.cancelled:
                running._interrupt = True
            return kwargs

        started = time.perf_counter()
        # the compiler itself cannot be interrupted: cancel takes effect when it returns
        with _grad_free(), lora_weights_applied(pipe, job.request.loras):
            pipe(**call, callback_on_step_end=on_step_end)
        attempt.timings["compile_warmup"] = time.perf_counter() - started
        shapes.add(shape)  # the denoiser ran at this shape, so it is compiled either way
        return not job.cancel.cancelled

    def _report(
        self, job: _Job, plan: MemoryPlan, attempt: _Attempt, cached: bool, weights: int
    ) -> dict[str, Any]:
        choice, device = job.choice, job.device
        report: dict[str, Any] = {
            "pipeline_cached": cached,
            "plan_reason": choice.reason,
            # every plan tried, in order, ending with the one that produced this result
            "attempts": [*attempt.log, {"plan": plan.value, "outcome": "ok", "error": None}],
            "failed_attempts": list(attempt.failures),
            "weights_mb": round(weights / 2**20, 1),
            "device": device.name,
        }
        if job.likeness is not None:
            report["likeness"] = job.likeness.to_dict()
        if device.kind == "cuda" and torch.cuda.is_available():
            report["peak_vram_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        return report


def _parameters(
    request: RenderRequest,
    preset: Preset,
    located: LocatedModel,
    params: DiffusionParams | None,
    attempt: _Attempt,
    *,
    likeness: LikenessPlan | None = None,
) -> RenderParameters:
    """The result's parameter record; before parameters were resolved (a cancel
    before or during load) it holds what the request asked for."""
    common = {
        "style": preset.id,
        "backend": "diffusion",
        "model": located.label,
        "subject": request.prompt,
        "family": located.family,
        "steps_run": attempt.steps_run,
        "likeness": request.likeness.value,
        "likeness_scale": likeness.scale if likeness else request.likeness_strength,
        "quantize": request.quantize.value,
        "loras": request.loras,
        "compile": request.compile,
        "mode": "text-to-image" if request.image is None else None,
        "autoencoder": attempt.autoencoder,
    }
    if params is None:
        return RenderParameters(
            **common,
            seed=request.seed,
            steps=request.steps,
            strength=request.strength,
            guidance=request.guidance,
        )
    return RenderParameters(
        **common,
        seed=params.seed,
        prompt=params.prompt,
        negative_prompt=params.negative_prompt,
        steps=params.steps,
        denoising_steps=params.denoising_steps,
        strength=params.strength,
        guidance=params.guidance,
        render_width=params.width,
        render_height=params.height,
    )


def _with_likeness_strength(request: RenderRequest, plan: LikenessPlan | None) -> RenderRequest:
    """With likeness control and no --strength, the family's likeness strength: the
    conditioning keeps the person, so the style may move further from the photo."""
    if plan is None or request.strength is not None:
        return request
    return replace(request, strength=plan.strength)


def _at_render_size(image: Image.Image, params: DiffusionParams) -> Image.Image:
    return image.resize((params.width, params.height), Image.Resampling.LANCZOS)


def _grad_free() -> Any:
    """no_grad, not inference_mode: optimum-quanto's 4-bit weights take views of tensors
    made outside inference mode, which it refuses ("Cannot set version_counter for
    inference tensor", optimum-quanto#304). diffusers' own __call__ runs under no_grad, so
    nothing is lost against bare diffusers. The compile warm-up and the render must share
    it: torch.compile guards on the grad mode and would otherwise compile again."""
    return torch.no_grad()


def _compile_shape(
    request: RenderRequest, params: DiffusionParams, call: dict[str, Any]
) -> tuple[Any, ...]:
    """What makes a compiled denoiser compile again: its input shapes (size, text sequence
    length, the batch doubled by classifier-free guidance) and LoRA scales it reads."""
    return (
        params.width,
        params.height,
        call.get("max_sequence_length"),
        params.guidance > 1,
        tuple((lora.path, lora.weight) for lora in request.loras),
    )


def _plan_key(request: RenderRequest, located: LocatedModel, device: Any) -> PlanKey:
    # the long side as params.resolve computes it, before rounding to the model's multiple
    native = located.spec.native_px if located.spec else request.max_side
    asked = request.image.size if request.image is not None else (request.width, request.height)
    long_side = min(native, request.max_side, max((side or native) for side in asked))
    return PlanKey(str(located.path), device.name, size_class(long_side), str(request.quantize))


def _native_px(pipe: Any) -> int | None:
    """The size the model was made for, from its own config (diffusers' default size)."""
    unet = getattr(pipe, "unet", None)
    sample = unet.config.sample_size if unet is not None else None
    sample = sample or getattr(pipe, "default_sample_size", None)
    return int(sample * pipe.vae_scale_factor) if isinstance(sample, int) else None


def _size_multiple(pipe: Any, family: str) -> int:
    scale = int(getattr(pipe, "vae_scale_factor", 8))
    if family == "flux":
        return scale * 2  # latents are packed in 2×2 patches
    down = 2 ** (len(pipe.unet.config.block_out_channels) - 1)
    return scale * down


def _call_kwargs(
    pipe: Any, located: LocatedModel, params: DiffusionParams, image: Image.Image | None
) -> dict[str, Any]:
    # img2img: the photo and how far to move from it; text-to-image: the size from noise
    source: dict[str, Any] = (
        {"image": _at_render_size(image, params), "strength": params.strength}
        if image is not None
        else {"height": params.height, "width": params.width}
    )
    kwargs: dict[str, Any] = {
        "prompt": params.prompt,
        **source,
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
