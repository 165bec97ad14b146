"""The local renderer: picks instant or diffusion for a request and runs it.

Routing rule: an explicit model (id or path) means diffusion; "instant" means the
OpenCV stand-in; no model means the best installed diffusion model, or the instant
stand-in when none is installed, unless the request needs diffusion (a prompt, a LoRA, or a
preset without an instant version), in which case the user is told what to download.

Configuration is explicit: the models folder is a constructor argument (the desktop
passes its Settings' folder); None falls back to PHOTOFLUX_MODELS_DIR or the default.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from photoflux_desktop.engine.catalog import download_hint
from photoflux_desktop.engine.checks.faces import preload_in_background as preload_face_detector
from photoflux_desktop.engine.checks.likeness import preload_in_background as preload_face_identity
from photoflux_desktop.engine.checks.nsfw import NsfwPolicy, settings_policy
from photoflux_desktop.engine.checks.nsfw import preload_in_background as preload_nsfw_detector
from photoflux_desktop.engine.checks.safety import with_safety_checks
from photoflux_desktop.engine.errors import model_missing
from photoflux_desktop.engine.instant_renderer import render_instant
from photoflux_desktop.engine.lazy import detect_device, diffusion_renderer, openvino_renderer
from photoflux_desktop.engine.likeness_retry import render_with_min_likeness
from photoflux_desktop.engine.model_store import LocatedModel, first_installed, locate
from photoflux_desktop.engine.openvino.choice import (
    BackendDecision,
    decide_backend,
    requested_backend,
)
from photoflux_desktop.engine.presets import Preset, get_preset
from photoflux_desktop.engine.request import (
    CancelToken,
    ProgressCallback,
    RenderRequest,
    RenderResult,
    Status,
    ignore_progress,
)

if TYPE_CHECKING:
    from photoflux_desktop.engine.checks.likeness import Scorer
    from photoflux_desktop.engine.diffusion.renderer import DiffusionRenderer
    from photoflux_desktop.engine.openvino.renderer import OpenVinoRenderer

INSTANT = "instant"
MIN_FACE_PHOTO_SIDE = 128  # smaller photos (warm-up renders) do not preload the face model


@dataclass(frozen=True)
class BackendChoice:
    model: LocatedModel | None  # None: instant
    note: str = ""


def choose_backend(
    request: RenderRequest, preset: Preset, models_dir: Path | None = None
) -> BackendChoice:
    if request.image is None:
        return BackendChoice(_generator(request, preset, models_dir))
    if request.model == INSTANT:
        ignored = (
            "The instant style cannot apply LoRAs; they were not used." if request.loras else ""
        )
        return BackendChoice(None, ignored)
    if request.model not in (None, "", "auto"):
        return BackendChoice(locate(request.model, models_dir))
    installed = first_installed(models_dir)
    if installed is not None:
        return BackendChoice(installed)
    # a LoRA, like a prompt, only means something to a diffusion model: falling back
    # to the instant style would silently drop it
    if request.prompt or request.loras or preset.instant is None:
        if preset.instant is None:
            needs, drop, clear = f"The style '{preset.id}' needs", "", ""
        elif request.prompt:
            needs, drop = "A prompt needs", " Or drop --prompt to use the instant version."
            clear = " Or clear the prompt to use the instant version."
        else:
            needs, drop = "A LoRA needs", " Or drop --lora to use the instant version."
            clear = " Or clear the LoRA to use the instant version."
        raise model_missing(
            f"{needs} a diffusion model, and none is installed.",
            download_hint() + drop,
            gui_hint="Download a model in the model manager." + clear,
        )
    return BackendChoice(
        None,
        "No diffusion model is installed, so the instant version of this style was used. "
        + download_hint(),
    )


def _generator(request: RenderRequest, preset: Preset, models_dir: Path | None) -> LocatedModel:
    """The diffusion model that generates from text: the one asked for, else the best
    installed; the instant styles need a photo, so there is no fallback."""
    if request.model not in (None, "", "auto"):
        return locate(request.model, models_dir)
    installed = first_installed(models_dir)
    if installed is None:
        raise model_missing(
            "Generating from text needs a diffusion model, and none is installed.",
            download_hint() + " Or choose a photo to use the instant styles.",
            gui_hint="Download a model in the model manager, or choose a photo.",
        )
    return installed


class LocalRenderer:
    """Satisfies the `Renderer` protocol for this machine."""

    def __init__(
        self,
        models_dir: Path | None = None,
        likeness_scorer: Scorer | None = None,
        nsfw: NsfwPolicy | None = None,
        openvino_threads: int | None = None,
    ) -> None:
        self._models_dir = models_dir
        # None: dlib's face identity model (checks/likeness.py); tests pass their own
        self._likeness_scorer = likeness_scorer
        self._diffusion: DiffusionRenderer | None = None
        # None: the settings file's policy, read at each render (the CLI, the kiosk)
        self.nsfw_policy = nsfw
        self._openvino: OpenVinoRenderer | None = None
        self._openvino_threads = openvino_threads  # None: the setting (0: physical cores)

    @property
    def models_dir(self) -> Path | None:
        """The configured models folder (None: environment or platform default)."""
        return self._models_dir

    @models_dir.setter
    def models_dir(self, folder: Path | None) -> None:
        self._models_dir = folder
        if self._diffusion is not None:
            self._diffusion.models_dir = folder
        if self._openvino is not None:
            self._openvino.models_dir = folder

    @property
    def diffusion(self) -> DiffusionRenderer:
        if self._diffusion is None:
            # torch and diffusers load here, on the first diffusion render only
            self._diffusion = diffusion_renderer(self._models_dir)
        return self._diffusion

    @property
    def openvino(self) -> OpenVinoRenderer:
        if self._openvino is None:
            threads = self._openvino_threads
            if threads is None:
                from photoflux_desktop.engine.settings import load_settings

                threads = load_settings()[0].openvino_threads
            self._openvino = openvino_renderer(self._models_dir, threads)
        return self._openvino

    def forget_model(self, folder: Path) -> int:
        """Drop the loaded pipelines of the model in `folder` (before it is deleted).

        Returns how many were dropped; never loads torch when nothing was rendered yet.
        """
        renderers = (self._diffusion, self._openvino)
        return sum(r.forget_model(folder) for r in renderers if r is not None)

    def backend_for(self, request: RenderRequest, model: LocatedModel) -> BackendDecision:
        """torch or OpenVINO for this request on this machine, with the reason. "auto"
        means the environment's PHOTOFLUX_BACKEND, else the `backend` setting (so the
        kiosk and every other caller follow it), else the automatic rule."""
        from photoflux_desktop.engine.settings import load_settings

        requested = requested_backend(request.backend.value, load_settings()[0].backend)
        # the GPU probe (torch) only matters to the automatic choice
        kind = detect_device(request.device).kind if requested == "auto" else None
        return decide_backend(
            requested,
            kind,
            model.family,
            loras=bool(request.loras),
            likeness=request.likeness != "none",
            quantize=request.quantize.value,
        )

    def render(
        self,
        request: RenderRequest,
        on_progress: ProgressCallback = ignore_progress,
        cancel: CancelToken | None = None,
    ) -> RenderResult:
        preset = get_preset(request.style_id)
        choice = choose_backend(request, preset, self._models_dir)
        if choice.model is not None and not request.fast_vae:
            from photoflux_desktop.engine.settings import load_settings

            # the setting turns it on for every caller (the window, the kiosk, the CLI)
            request = replace(request, fast_vae=load_settings()[0].fast_vae)
        preload_face_detector()  # the checks after the render need it; load it meanwhile
        photo = request.image
        if photo is not None and photo.width >= MIN_FACE_PHOTO_SIDE:  # not warm-up thumbnails
            preload_face_identity()
        policy = self.nsfw_policy or settings_policy()
        preload_nsfw_detector(policy.detector)
        notes = (choice.note,) if choice.note else ()
        family = choice.model.family if choice.model is not None else None

        def render_once(attempt: RenderRequest) -> RenderResult:
            if choice.model is None:
                extra = notes
                if attempt.likeness != "none":
                    extra += (
                        "Likeness control needs a diffusion model; the instant style ignored it.",
                    )
                result = render_instant(attempt, preset, on_progress, cancel, extra)
            else:
                decision = self.backend_for(attempt, choice.model)
                engine = self.openvino if decision.backend == "openvino" else self.diffusion
                result = engine.render(attempt, preset, choice.model, on_progress, cancel)
                report = {**result.report, "compute_backend": decision.to_dict()}
                result = replace(result, report=report)
            return with_quality_checks(result, attempt, self._likeness_scorer)

        # --min-likeness renders again with stronger conditioning while likeness is low;
        # the safety screen judges (and if need be blurs) only the result that is kept
        best = render_with_min_likeness(render_once, request, family, self._models_dir)
        return with_safety_checks(best, request, policy)


def with_quality_checks(
    result: RenderResult, request: RenderRequest, scorer: Scorer | None = None
) -> RenderResult:
    """The result with every quality check of its image against the request's photo,
    the likeness score and the style-consistency check against its style's signature
    (a cancelled render has no image and is returned as it is)."""
    if result.status is not Status.COMPLETED or result.image is None:
        return result
    from photoflux_desktop.engine.checks import timed
    from photoflux_desktop.engine.checks.likeness import measure_likeness, timed_likeness
    from photoflux_desktop.engine.checks.quality import quality_checks
    from photoflux_desktop.engine.checks.style import check_style_consistency
    from photoflux_desktop.engine.checks.style_expect import expectations_for

    parameters = result.parameters
    expect = expectations_for(parameters.style, result.backend)
    found = quality_checks(result.image, request.image, expect)
    found.append(timed_likeness(result.image, request.image, scorer or measure_likeness, expect))
    found.append(
        timed(
            check_style_consistency,
            result.image,
            parameters.style,
            result.backend,
            None,
            parameters.strength,
        )
    )
    checks = result.checks + tuple(check.to_dict() for check in found)
    return replace(result, checks=checks)
