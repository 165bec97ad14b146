"""The models folder is configuration passed in; the environment is the CLI's default."""

from __future__ import annotations

import os
from pathlib import Path

from photoflux_desktop.engine.local_renderer import LocalRenderer, choose_backend
from photoflux_desktop.engine.model_store import find_installed, installed_models
from photoflux_desktop.engine.paths import models_dir
from photoflux_desktop.engine.presets import get_preset
from photoflux_desktop.engine.request import LoraSpec, RenderRequest
from tests.engine.diffusion_fixtures import install_as


def test_a_passed_folder_beats_the_environment_which_beats_the_default(tmp_path):
    from_env = Path(os.environ["PHOTOFLUX_MODELS_DIR"])
    assert models_dir() == from_env
    assert models_dir(tmp_path / "chosen") == tmp_path / "chosen"
    assert models_dir("~/m") == Path.home() / "m"


def test_lookups_and_routing_use_the_passed_folder(tmp_path, tiny_models, astronaut):
    chosen = tmp_path / "chosen"
    install_as(tiny_models["sd"], chosen, "sd-turbo")
    assert installed_models() == {}  # the environment's folder is empty
    assert find_installed("sd-turbo", chosen).path == chosen / "sd-turbo"
    assert set(installed_models(chosen)) == {"sd-turbo"}
    # with no model installed where it looks, a prompt-free request falls back to instant
    request = RenderRequest(image=astronaut.resize((64, 64)), style_id="watercolor")
    preset = get_preset("watercolor")
    assert choose_backend(request, preset).model is None
    assert choose_backend(request, preset, chosen).model.path == chosen / "sd-turbo"
    assert LocalRenderer(chosen).models_dir == chosen


def test_an_explicit_instant_render_says_it_did_not_use_the_loras(astronaut):
    request = RenderRequest(
        image=astronaut.resize((64, 64)),
        style_id="watercolor",
        model="instant",
        loras=(LoraSpec(__file__),),
    )
    choice = choose_backend(request, get_preset("watercolor"))
    assert choice.model is None and "LoRA" in choice.note


def test_a_model_in_the_hugging_face_cache_is_found_without_importing_the_hub(tmp_path):
    import subprocess
    import sys

    from photoflux_desktop.engine.catalog import CATALOG

    spec = CATALOG["sd-turbo"]
    repo = Path(os.environ["HF_HOME"]) / "hub" / f"models--{spec.hub_id.replace('/', '--')}"
    commit = "0123456789abcdef0123456789abcdef01234567"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / spec.revision).write_text(commit)
    snapshot = repo / "snapshots" / commit
    (snapshot / "unet").mkdir(parents=True)
    assert find_installed("sd-turbo", tmp_path / "empty") is None  # no index yet: incomplete
    (snapshot / "model_index.json").write_text("{}")
    (snapshot / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"0")
    found = find_installed("sd-turbo", tmp_path / "empty")
    assert found is not None and found.path == snapshot and found.source == "hf-cache"
    probe = (
        "import sys; from pathlib import Path; "
        "from photoflux_desktop.engine.model_store import find_installed; "
        f"assert find_installed('sd-turbo', Path({str(tmp_path / 'empty')!r})) is not None; "
        "print('huggingface_hub' in sys.modules)"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False"  # the window's start-up probe stays light
