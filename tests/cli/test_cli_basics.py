from __future__ import annotations

import json
import subprocess
import sys

import pytest

from photoflux_desktop.cli import main
from tests import hostile_files as hf


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, f"--json must print exactly one object, got: {out!r}"
    return code, json.loads(lines[0])


def test_render_instant_then_verify(capsys, tmp_path, astronaut_path):
    out = tmp_path / "out.png"
    code, payload = run_json(
        capsys, "render", str(astronaut_path), "-o", str(out), "--style", "pencil-sketch"
    )
    assert code == 0 and payload["ok"]
    assert payload["result"]["backend"] == "instant"
    params = payload["result"]["parameters"]  # one record for every backend
    assert {"style", "seed", "model", "steps", "strength", "guidance"} <= set(params)
    assert params["style"] == "pencil-sketch" and params["steps"] is None
    assert payload["output"]["invisible_watermark"]["detected"]
    assert "models download sd-turbo" in payload["result"]["notes"][0]
    code, report = run_json(capsys, "verify", str(out))
    assert code == 0 and report["made_by_photoflux"]
    assert report["metadata"]["style"] == "pencil-sketch"


def test_render_human_output_and_visible_mark(capsys, tmp_path, rocket_path):
    out = tmp_path / "o.jpg"
    code = main(
        [
            "render",
            str(rocket_path),
            "-o",
            str(out),
            "--style",
            "comic",
            "--visible-watermark",
            "Studio",
            "--seed",
            "5",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert f"Wrote {out}" in captured.out
    assert "note:" in captured.err


def test_styles_lists_presets(capsys):
    code, payload = run_json(capsys, "styles")
    assert code == 0
    ids = {style["id"] for style in payload["styles"]}
    assert {"watercolor", "pencil-sketch", "comic"} <= ids


def test_doctor_reports_paths_and_missing(capsys):
    code, payload = run_json(capsys, "doctor")
    assert code == 0
    assert payload["device"]["kind"] == "cpu"
    assert payload["memory_plan"]["plan"] == "full"
    assert any("sd-turbo" in item for item in payload["missing"])
    assert payload["presets"] >= 12


def test_models_lists_catalog(capsys):
    code, payload = run_json(capsys, "models")
    assert code == 0
    ids = [m["id"] for m in payload["models"]]
    assert ids == ["sd-turbo", "sdxl-turbo", "sdxl-lcm", "flux-schnell"]
    assert not any(m["installed"] for m in payload["models"])


@pytest.mark.parametrize(
    ("argv", "code", "words"),
    [
        (["render", "{photo}", "-o", "{out}", "--prompt", "a knight"], 3, "models download"),
        (["render", "{photo}", "-o", "{out}", "--model", "sd-turbo"], 3, "not installed"),
        # once rc 0: the automatic instant fallback dropped the LoRA without a word
        (["render", "{photo}", "-o", "{out}", "--lora", "{txt}"], 3, "drop --lora"),
        (["render", "{photo}", "-o", "{out}", "--model", "/no/such/folder"], 3, "neither"),
        (["render", "{photo}", "-o", "{tmp}/out.gif"], 2, "unknown image type"),
        (["render", "{photo}", "-o", "{out}", "--style", "laser"], 2, "Unknown style"),
        (["render", "{photo}", "-o", "{out}", "--strength", "7"], 2, "strength"),
        (["render", "{photo}", "-o", "{out}", "--steps", "many"], 2, "steps must be a number"),
        (["render", "{tmp}/missing.jpg", "-o", "{out}"], 2, "does not exist"),
        (["render", "{photo}", "-o", "{out}", "--lora", "{tmp}/no.safetensors"], 2, "not exist"),
        (["render", "{photo}", "-o", "{out}", "--lora", "{photo}:9"], 2, "loras.weight must"),
        (["render", "{photo}"], 2, "required"),
        # once rc 0: the styled result silently replaced the original photo
        (["render", "{mine}", "-o", "{mine}"], 2, "is the input photo"),
        # found by the outside review: -1 means "random" elsewhere; bounds shown exactly
        (["render", "{photo}", "-o", "{out}", "--seed", "-1"], 2, "and 4294967295 (leave"),
        # once exit 1 "unexpected problem" (FileExistsError, UnidentifiedImageError)
        (["render", "{photo}", "-o", "{out}", "--preview-dir", "{photo}"], 2, "--preview-dir"),
        (["render", "{photo}", "-o", "{out}", "--watermark-logo", "{txt}"], 2, "not a readable"),
        (["render", "{photo}", "-o", "{out}", "--watermark-logo", "{tmp}"], 2, "not a file"),
        (["models", "download", "nope"], 2, "Unknown model"),
        (["models", "download", "sd-turbo"], 5, "Offline mode"),
        (["verify", "{tmp}"], 2, "folder"),
        (["frobnicate"], 2, "invalid choice"),
    ],
)
def test_expected_failures_are_one_json_error(capsys, tmp_path, astronaut_path, argv, code, words):
    (tmp_path / "logo.png").write_text("not an image\n")
    (tmp_path / "mine.png").write_bytes(astronaut_path.read_bytes())  # may be overwritten
    values = {
        "photo": str(astronaut_path),
        "out": str(tmp_path / "o.png"),
        "tmp": str(tmp_path),
        "txt": str(tmp_path / "logo.png"),
        "mine": str(tmp_path / "mine.png"),
    }
    argv = [part.format(**values) for part in argv]
    got, payload = run_json(capsys, *argv)
    assert got == code
    assert not payload["ok"]
    text = payload["error"]["message"] + payload["error"]["hint"]
    assert words in text
    assert not (tmp_path / "o.png").exists()


def test_broken_files_never_show_a_traceback(tmp_path, rocket_path):
    """Through the real console script: exit 2, a clear message, no traceback."""
    cases = {
        "zero.jpg": b"",
        "truncated.jpg": rocket_path.read_bytes()[:5000],
        "text.png": b"just some words\n" * 50,
        "bomb.png": hf.png_bomb(),
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "photoflux_desktop",
                "render",
                str(tmp_path / name),
                "-o",
                str(tmp_path / "out.png"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 2, (name, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert proc.stderr.startswith("error: ")
        assert not (tmp_path / "out.png").exists()


def test_unexpected_failure_is_one_line(capsys, monkeypatch, tmp_path, astronaut_path):
    from photoflux_desktop.engine import instant_renderer

    def boom(*args, **kwargs):
        raise ZeroDivisionError("surprise")

    monkeypatch.setattr(instant_renderer, "apply_instant_style", boom)
    code, payload = run_json(capsys, "render", str(astronaut_path), "-o", str(tmp_path / "o.png"))
    assert code == 1
    assert payload["error"]["kind"] == "internal"
    assert "ZeroDivisionError" in payload["error"]["message"]


def test_help_and_version(capsys):
    assert main(["--version"]) == 0
    assert "photoflux" in capsys.readouterr().out
    assert main(["render", "--help"]) == 0
    assert "--preview-dir" in capsys.readouterr().out


def test_a_cancelled_result_is_exit_130_and_writes_nothing(
    capsys, monkeypatch, tmp_path, astronaut_path
):
    from photoflux_desktop.engine.local_renderer import LocalRenderer
    from photoflux_desktop.engine.request import RenderParameters, RenderResult, Status

    def cancelled_render(self, request, on_progress, cancel):
        params = RenderParameters(style=request.style_id, backend="diffusion", model="m")
        return RenderResult(Status.CANCELLED, None, params)

    monkeypatch.setattr(LocalRenderer, "render", cancelled_render)
    out = tmp_path / "o.png"
    code, payload = run_json(capsys, "render", str(astronaut_path), "-o", str(out))
    assert code == 130 and payload["error"]["kind"] == "cancelled"
    assert "nothing was written" in payload["error"]["message"]
    assert not out.exists()


def test_verify_prints_no_control_characters_from_a_files_metadata(capsys, tmp_path):
    """Found by the outside review: anyone can write the record, and `verify` printed
    its fields raw, so a file could retitle or clear the user's terminal."""
    from PIL import Image, PngImagePlugin

    record = {"app": "PhotoFlux", "style": "\x1b]0;pwned\x07\x1b[2J", "model": "m" * 5000}
    info = PngImagePlugin.PngInfo()
    info.add_text("photoflux", json.dumps(record))
    Image.new("RGB", (300, 300), "teal").save(tmp_path / "crafted.png", pnginfo=info)
    assert main(["verify", str(tmp_path / "crafted.png")]) == 0
    out = capsys.readouterr().out
    assert "metadata: PhotoFlux" in out
    assert "\x1b" not in out and "\x07" not in out and len(out) < 1000
