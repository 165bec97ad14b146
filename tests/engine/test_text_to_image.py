"""Text-to-image: a request with no photo generates from the prompt alone, on the same
engine (cached weights, previews, cancel, LoRAs, checks) as a photo render."""

from __future__ import annotations

import numpy as np
import pytest

from photoflux_desktop.engine.diffusion.cache import PipelineCache
from photoflux_desktop.engine.diffusion.renderer import DiffusionRenderer
from photoflux_desktop.engine.errors import ErrorKind, PhotoFluxError
from photoflux_desktop.engine.local_renderer import LocalRenderer
from photoflux_desktop.engine.model_store import locate
from photoflux_desktop.engine.presets import get_preset
from photoflux_desktop.engine.request import (
    CancelToken,
    LoraSpec,
    ProgressEvent,
    RenderRequest,
    Stage,
    Status,
)


def generate_request(model=None, **overrides) -> RenderRequest:
    base = {
        "image": None,
        "style_id": "comic",
        "prompt": "a lighthouse at dusk",
        "model": str(model),
        "seed": 7,
        "steps": 2,
        "width": 96,
        "height": 64,
        "max_side": 128,
    }
    return RenderRequest(**{**base, **overrides})


def generate(renderer, req, events=None, cancel=None):
    sink = events.append if isinstance(events, list) else events or (lambda event: None)
    return renderer.render(req, get_preset(req.style_id), locate(req.model), sink, cancel)


@pytest.fixture(scope="module")
def renderer() -> DiffusionRenderer:
    return DiffusionRenderer(PipelineCache(budget_bytes=2**30))


@pytest.mark.parametrize("family", ["sd", "sdxl", "flux"])
def test_each_family_generates_at_the_asked_size_with_previews(tiny_models, renderer, family):
    events: list[ProgressEvent] = []
    result = generate(renderer, generate_request(tiny_models[family]), events)
    assert result.status is Status.COMPLETED
    assert result.image.size == (96, 64)
    params = result.parameters
    assert params.mode == "text-to-image" and params.denoising_steps == params.steps == 2
    assert "a lighthouse at dusk" in params.prompt  # the style's template, filled in
    previews = [e for e in events if e.stage is Stage.DENOISING and e.preview is not None]
    assert len(previews) == 2


def test_same_seed_same_image_and_the_seed_matters(tiny_models, renderer):
    first = np.asarray(generate(renderer, generate_request(tiny_models["sd"])).image)
    again = np.asarray(generate(renderer, generate_request(tiny_models["sd"])).image)
    other = np.asarray(generate(renderer, generate_request(tiny_models["sd"], seed=8)).image)
    assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_unset_size_is_the_model_s_square_within_max_side(tiny_models, renderer):
    req = generate_request(tiny_models["sd"], width=None, height=None, max_side=64)
    assert generate(renderer, req).image.size == (64, 64)
    req = generate_request(tiny_models["sd"], width=None, height=128, max_side=128)
    assert generate(renderer, req).image.size == (128, 128)  # one side given: a square


def test_cancel_stops_within_a_step(tiny_models, renderer):
    cancel = CancelToken()

    def cancel_at_first_step(event: ProgressEvent) -> None:
        if event.stage is Stage.DENOISING:
            cancel.cancel()

    result = generate(
        renderer, generate_request(tiny_models["sd"], steps=4), cancel_at_first_step, cancel
    )
    assert result.status is Status.CANCELLED and result.image is None
    assert result.parameters.steps_run == 2  # the step running when cancelled, no more


def test_a_lora_changes_the_generated_image(tiny_models, renderer, tmp_path):
    from tests.engine.lora_fixture import make_tiny_sd_lora

    lora = make_tiny_sd_lora(tiny_models["sd"], tmp_path / "lora")
    plain = np.asarray(generate(renderer, generate_request(tiny_models["sd"])).image, np.float32)
    req = generate_request(tiny_models["sd"], loras=(LoraSpec(str(lora)),))
    styled = np.asarray(generate(renderer, req).image, np.float32)
    assert np.abs(styled - plain).mean() > 0.5


def test_local_renderer_checks_skip_what_needs_a_photo(tiny_models):
    result = LocalRenderer().render(generate_request(tiny_models["sd"]))
    checks = {check["name"]: check for check in result.checks}
    for name in ("face_kept", "likeness", "blur"):
        assert checks[name]["skipped"] and "no photo" in checks[name]["reason"]
    assert "nsfw_input" not in checks and "nsfw_output" in checks
    assert {"black_frame", "blank", "exposure", "clipping"} <= set(checks)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"model": "instant"}, "model"),
        ({"likeness": "canny"}, "likeness"),
        ({"min_likeness": 0.5}, "min_likeness"),
        ({"likeness_strength": 0.5}, "likeness_strength"),
        ({"strength": 0.5}, "strength"),
        ({"width": 32}, "width"),
        ({"height": 4096}, "height"),
        ({"width": True}, "width"),
    ],
)
def test_what_needs_a_photo_or_a_sane_size_is_refused_up_front(overrides, field):
    with pytest.raises(PhotoFluxError) as caught:
        generate_request(**{"model": "some-model", **overrides})
    error = caught.value.error
    assert error.kind is ErrorKind.BAD_INPUT and error.details["field"] == field
    assert error.hint or "64 to 2048" in error.message  # says what to do, or what is allowed


def test_a_size_given_with_a_photo_is_refused(small_photo):
    with pytest.raises(PhotoFluxError) as caught:
        RenderRequest(image=small_photo, style_id="comic", width=512)
    assert caught.value.error.details["field"] == "width"


def test_no_installed_model_says_what_to_download(tmp_path):
    req = RenderRequest(image=None, style_id="comic", prompt="a cat")
    with pytest.raises(PhotoFluxError) as caught:
        LocalRenderer(models_dir=tmp_path).render(req)
    assert caught.value.error.kind is ErrorKind.MODEL_MISSING
    assert "Generating from text needs a diffusion model" in caught.value.error.message


def test_the_wire_carries_a_request_without_a_photo():
    req = RenderRequest(image=None, style_id="comic", prompt="a cat", width=128, height=96)
    data, image_bytes = req.to_wire()
    assert image_bytes == b"" and data["width"] == 128
    back = RenderRequest.from_wire(data, image_bytes)
    assert back.is_text_to_image and (back.width, back.height) == (128, 96)
    photo_wire, _ = RenderRequest(image=None, style_id="comic").to_wire()
    assert "width" not in photo_wire  # unset sizes stay off the wire for older workers
