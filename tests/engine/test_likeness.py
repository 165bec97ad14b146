"""Likeness control through diffusers' own pipelines, on tiny random-weight models (CPU).

Tiny ControlNets (plain and union), IP-Adapters plus-face and a depth estimator are
built with save_pretrained, installed where `photoflux models download` puts them,
and found by the renderer through the same lookup real add-ons go through.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photoflux_desktop.cli import main
from photoflux_desktop.engine.catalog import ADDONS, likeness_addons
from photoflux_desktop.engine.diffusion.cache import PipelineCache
from photoflux_desktop.engine.diffusion.renderer import DiffusionRenderer
from photoflux_desktop.engine.diffusion.tiny_likeness import install_tiny_likeness
from photoflux_desktop.engine.errors import ErrorKind, PhotoFluxError
from photoflux_desktop.engine.likeness import DEFAULTS
from photoflux_desktop.engine.model_store import locate
from photoflux_desktop.engine.presets import get_preset
from photoflux_desktop.engine.request import Likeness, RenderRequest


@pytest.fixture(scope="session")
def likeness_models(tiny_models, tmp_path_factory) -> Path:
    """A models folder holding every likeness add-on for the tiny SD and SDXL."""
    root = tmp_path_factory.mktemp("likeness-models")
    for family in ("sd", "sdxl"):
        install_tiny_likeness(tiny_models[family], family, root)
    return root


def render(models_dir, model, photo, mode, renderer=None, **overrides):
    request = RenderRequest(
        image=photo,
        style_id="comic",
        model=str(model),
        seed=5,
        steps=2,
        max_side=64,
        likeness=mode,
        previews=False,
        **overrides,
    )
    renderer = renderer or DiffusionRenderer(
        PipelineCache(budget_bytes=2**30), models_dir=models_dir
    )
    return renderer.render(request, get_preset("comic"), locate(str(model)))


class _Calls:
    """Counts forward calls of a module class, to prove the conditioning ran."""

    def __init__(self, monkeypatch, cls):
        self.count = 0
        self.cls = cls
        self.original = original = cls.forward

        def counted(module, *args, **kwargs):
            self.count += 1
            return original(module, *args, **kwargs)

        monkeypatch.setattr(cls, "forward", counted)


def _spy(monkeypatch, family: str, mode: Likeness) -> _Calls:
    import diffusers
    from diffusers.models.embeddings import IPAdapterPlusImageProjection

    if mode is Likeness.FACE:
        return _Calls(monkeypatch, IPAdapterPlusImageProjection)
    union = family == "sdxl"  # the SDXL catalog entry is a union ControlNet
    return _Calls(
        monkeypatch, diffusers.ControlNetUnionModel if union else diffusers.ControlNetModel
    )


def cli_render(capsys, tmp_path, model, mode: str) -> tuple[dict, np.ndarray]:
    """`photoflux render ... --likeness MODE --json` in-process, as a user would run it."""
    photo, out = tmp_path / "photo.png", tmp_path / f"{mode}.png"
    argv = ["render", str(photo), "-o", str(out), "--model", str(model), "--style", "comic"]
    argv += ["--seed", "5", "--steps", "2", "--max-side", "64", "--no-watermark"]
    code = main([*argv, "--likeness", mode, "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0, payload
    with Image.open(out) as image:
        return payload, np.asarray(image.convert("RGB"), float)


@pytest.mark.parametrize("family", ["sd", "sdxl"])
def test_every_mode_conditions_the_render_through_the_cli(
    family, tiny_models, likeness_models, small_photo, monkeypatch, capsys, tmp_path
):
    monkeypatch.setenv("PHOTOFLUX_MODELS_DIR", str(likeness_models))
    small_photo.save(tmp_path / "photo.png")
    plain, plain_pixels = cli_render(capsys, tmp_path, tiny_models[family], "none")
    assert "likeness" not in plain["result"]["report"]
    for mode in (Likeness.CANNY, Likeness.DEPTH, Likeness.FACE):
        calls = _spy(monkeypatch, family, mode)
        payload, pixels = cli_render(capsys, tmp_path, tiny_models[family], mode.value)
        assert calls.count >= 1, f"{mode}: the conditioning model never ran"
        # the same seed without likeness gives another image: the conditioning counted
        assert np.abs(pixels - plain_pixels).mean() > 0.5, f"{mode} left the render unchanged"
        defaults = DEFAULTS[(family, mode)]
        parameters = payload["result"]["parameters"]
        assert payload["result"]["report"]["likeness"]["mode"] == mode.value
        assert parameters["likeness"] == mode.value
        assert parameters["likeness_scale"] == defaults.scale
        assert parameters["strength"] == defaults.strength  # no --strength given
        monkeypatch.setattr(calls.cls, "forward", calls.original)


@pytest.mark.parametrize("family", ["sd", "sdxl"])
def test_both_runs_the_controlnet_and_the_face_adapter_together(
    family, tiny_models, likeness_models, small_photo, monkeypatch, capsys, tmp_path
):
    monkeypatch.setenv("PHOTOFLUX_MODELS_DIR", str(likeness_models))
    small_photo.save(tmp_path / "photo.png")
    structure = _spy(monkeypatch, family, Likeness.CANNY)
    face = _spy(monkeypatch, family, Likeness.FACE)
    payload, _ = cli_render(capsys, tmp_path, tiny_models[family], "both")
    assert structure.count >= 1 and face.count >= 1  # both conditioning models ran
    report = payload["result"]["report"]["likeness"]
    defaults = DEFAULTS[(family, Likeness.BOTH)]
    assert report["mode"] == "both" and report["scale"] == defaults.scale
    assert report["face_addon"] == f"ip-adapter-plus-face-{'sd15' if family == 'sd' else family}"
    assert report["face_scale"] == DEFAULTS[(family, Likeness.FACE)].scale


def test_likeness_strength_sets_the_scale_and_changes_the_image(
    tiny_models, likeness_models, small_photo
):
    renderer = DiffusionRenderer(PipelineCache(budget_bytes=2**30), models_dir=likeness_models)
    weak = render(
        likeness_models, tiny_models["sd"], small_photo, "canny", renderer, likeness_strength=0.1
    )
    strong = render(
        likeness_models,
        tiny_models["sd"],
        small_photo,
        "canny",
        renderer,
        likeness_strength=1.5,
        strength=0.9,
    )
    assert weak.report["likeness"]["scale"] == 0.1 and strong.parameters.likeness_scale == 1.5
    assert strong.parameters.strength == 0.9  # an explicit --strength wins
    assert not np.array_equal(np.asarray(weak.image), np.asarray(strong.image))


def test_flux_refuses_likeness_and_points_to_the_personal_lora(
    tiny_models, likeness_models, small_photo
):
    with pytest.raises(PhotoFluxError) as caught:
        render(likeness_models, tiny_models["flux"], small_photo, "canny")
    assert caught.value.error.kind is ErrorKind.BAD_INPUT
    assert "FLUX" in caught.value.error.message
    assert "LoRA" in caught.value.error.hint


def test_missing_add_ons_name_the_download(tiny_models, small_photo, tmp_path):
    with pytest.raises(PhotoFluxError) as caught:
        render(tmp_path, tiny_models["sdxl"], small_photo, "canny")
    assert caught.value.error.kind is ErrorKind.MODEL_MISSING
    assert "photoflux models download controlnet-union-sdxl" in caught.value.error.hint
    # a ControlNet but no depth estimator: depth says which entry to fetch
    install_tiny_likeness(tiny_models["sd"], "sd", tmp_path)
    (tmp_path / "depth-anything-v2-small" / "config.json").unlink()
    with pytest.raises(PhotoFluxError) as caught:
        render(tmp_path, tiny_models["sd"], small_photo, "depth")
    assert caught.value.error.kind is ErrorKind.MODEL_MISSING
    assert "photoflux models download depth-anything-v2-small" in caught.value.error.hint
    # a damaged ControlNet is named as the add-on, not blamed on the model
    (tmp_path / "controlnet-canny-sd21" / "diffusion_pytorch_model.safetensors").write_bytes(b"x")
    with pytest.raises(PhotoFluxError) as caught:
        render(tmp_path, tiny_models["sd"], small_photo, "canny")
    assert "likeness add-on" in caught.value.error.message
    assert "photoflux models download controlnet-canny-sd21" in caught.value.error.hint


def test_the_instant_style_says_it_ignored_likeness(small_photo):
    from photoflux_desktop.engine.local_renderer import LocalRenderer

    request = RenderRequest(image=small_photo, style_id="comic", model="instant", likeness="face")
    result = LocalRenderer().render(request)
    assert any("ignored" in note for note in result.notes)


def test_cli_renders_with_likeness_as_a_subprocess(tiny_models, likeness_models, tmp_path):
    from tests.conftest import DATA

    out = tmp_path / "out.png"
    env = {**os.environ, "PHOTOFLUX_MODELS_DIR": str(likeness_models)}
    argv = [sys.executable, "-m", "photoflux_desktop", "render", str(DATA / "astronaut.png")]
    argv += ["-o", str(out), "--model", str(tiny_models["sd"]), "--steps", "2"]
    argv += ["--max-side", "64", "--likeness", "canny", "--likeness-strength", "0.9", "--json"]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    report = payload["result"]["report"]
    assert report["likeness"] == {**report["likeness"], "mode": "canny", "scale": 0.9}
    assert report["likeness"]["addon"] == "controlnet-canny-sd21"
    assert {check["name"] for check in payload["checks"]} >= {"blur", "blank", "face_kept"}
    assert out.is_file()


def test_cli_flux_likeness_exits_2(capsys, tiny_models, astronaut_path, tmp_path):
    argv = ["render", str(astronaut_path), "-o", str(tmp_path / "o.png")]
    code = main([*argv, "--model", str(tiny_models["flux"]), "--likeness", "face", "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 2 and "LoRA" in payload["error"]["hint"]
    assert not (tmp_path / "o.png").exists()
    code = main([*argv, "--likeness", "canny", "--likeness-strength", "0", "--json"])
    assert (
        code == 2 and "likeness-strength" in json.loads(capsys.readouterr().out)["error"]["message"]
    )


def test_request_round_trips_likeness_strength(small_photo):
    request = RenderRequest(
        image=small_photo, style_id="comic", likeness="face", likeness_strength=0.4
    )
    data, image = request.to_wire()
    again = RenderRequest.from_wire(data, image)
    assert again.likeness is Likeness.FACE and again.likeness_strength == 0.4
    plain, _ = RenderRequest(image=small_photo, style_id="comic").to_wire()
    assert "likeness_strength" not in plain  # older workers still accept what they know
    with pytest.raises(PhotoFluxError):
        RenderRequest(image=small_photo, style_id="comic", likeness_strength=0.0)


def test_commercial_only_hides_the_non_commercial_add_ons():
    every = {addon.id for addon in likeness_addons(commercial_only=False)}
    commercial = {addon.id for addon in likeness_addons(commercial_only=True)}
    hidden = every - commercial
    assert hidden == {"instantid", "pulid-flux", "ip-adapter-faceid-sdxl"}
    assert all(ADDONS[name].opt_in for name in hidden)
    # no likeness mode ever uses a non-commercial add-on by default
    from photoflux_desktop.engine import likeness

    used = {*likeness._STRUCTURE_ADDON.values(), *likeness._FACE_ADDON.values()}
    assert used <= commercial and likeness.DEPTH_ESTIMATOR in commercial


def test_models_lists_add_ons_and_the_setting_hides_non_commercial_ones(capsys):
    from photoflux_desktop.engine.settings import Settings, save_settings

    assert main(["models", "--json"]) == 0
    listed = {item["id"]: item for item in json.loads(capsys.readouterr().out)["likeness_addons"]}
    assert listed["instantid"]["commercial_use"] is False and listed["instantid"]["opt_in"]
    assert listed["controlnet-union-sdxl"]["licence"] == "Apache-2.0"
    save_settings(Settings(commercial_models_only=True))
    assert main(["models", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert all(item["commercial_use"] for item in payload["likeness_addons"])
    assert "controlnet-union-sdxl" in {item["id"] for item in payload["likeness_addons"]}


def test_an_add_on_downloads_only_its_files_and_is_then_found(tmp_path):
    """The real console entry point against a fake hub over loopback (a fresh process:
    huggingface_hub reads offline mode once, at import)."""
    from photoflux_desktop.engine.model_store import find_addon
    from tests.fake_hub import FakeHub

    repo = {
        "models/ip-adapter-plus-face_sd15.safetensors": b"w" * 1000,
        "models/image_encoder/config.json": b"{}",
        "models/image_encoder/model.safetensors": b"e" * 1000,
        "models/ip-adapter_sd15.safetensors": b"other adapter" * 100,  # not this entry's
    }
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    env["PHOTOFLUX_MODELS_DIR"] = str(tmp_path)
    argv = [sys.executable, "-m", "photoflux_desktop", "models", "download"]
    with FakeHub({"h94/IP-Adapter": repo}) as hub:
        env["HF_ENDPOINT"] = hub.url
        done = subprocess.run(
            [*argv, "ip-adapter-plus-face-sd15", "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    folder = Path(json.loads(done.stdout)["download"]["path"])
    assert (folder / "models/image_encoder/model.safetensors").is_file()
    assert not (folder / "models/ip-adapter_sd15.safetensors").exists()
    assert find_addon("ip-adapter-plus-face-sd15", tmp_path) == folder
