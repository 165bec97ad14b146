"""Which renders go to the studio's cloud: never an instant look (milliseconds here,
and a guest at an offline kiosk must still get one), nor LoRA files on this computer."""

from __future__ import annotations

from pathlib import Path

from photoflux_desktop.engine.request import LoraSpec, RenderRequest
from photoflux_desktop.sync.cloud_routing import runs_in_cloud


def test_instant_looks_stay_on_this_computer_even_with_the_automatic_model(astronaut):
    for model in ("auto", "instant"):
        request = RenderRequest(image=astronaut, style_id="watercolor", model=model)
        assert not runs_in_cloud(request)
    # an Instant tile drawn by a catalog model the user chose is a diffusion render
    assert runs_in_cloud(RenderRequest(image=astronaut, style_id="watercolor", model="sd-turbo"))


def test_ai_styles_go_to_the_cloud_unless_they_need_local_files(astronaut, tmp_path: Path):
    assert runs_in_cloud(RenderRequest(image=astronaut, style_id="anime", model="auto"))
    lora = tmp_path / "mine.safetensors"
    lora.write_bytes(b"x")
    local_only = RenderRequest(
        image=astronaut, style_id="anime", model="auto", loras=(LoraSpec(path=str(lora)),)
    )
    assert not runs_in_cloud(local_only)


def test_generating_from_text_stays_on_this_computer():
    """The cloud's contract uploads a photo first; a text-to-image request has none."""
    for model in ("auto", "sd-turbo"):
        request = RenderRequest(image=None, style_id="anime", prompt="a cat", model=model)
        assert not runs_in_cloud(request)
