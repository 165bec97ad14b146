"""`photoflux generate`: a prompt in, a file out, through the real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from photoflux_desktop.cli import main
from tests.cli.test_cli_basics import run_json


def _generate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "photoflux_desktop", "generate", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_generate_writes_a_jpeg_whose_watermark_and_provenance_survive(tmp_path, tiny_models):
    out, previews = tmp_path / "lighthouse.jpg", tmp_path / "previews"
    proc = _generate(
        "--prompt", "a lighthouse at dusk", "--model", str(tiny_models["sd"]), "-o", str(out),
        "--width", "320", "--height", "256", "--steps", "2", "--seed", "5",
        "--preview-dir", str(previews), "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["input"] is None
    params = payload["result"]["parameters"]
    assert params["mode"] == "text-to-image" and params["seed"] == 5
    assert params["prompt"].startswith("professional studio portrait of a lighthouse at dusk")
    output = payload["output"]
    assert (output["width"], output["height"]) == (320, 256)
    assert output["invisible_watermark"]["detected"]
    assert len(list(previews.iterdir())) == 2
    checks = {check["name"]: check for check in payload["checks"]}
    assert checks["face_kept"]["skipped"] and "nsfw_input" not in checks
    # judged on the written JPEG, after the last encoding
    verify = subprocess.run(
        [sys.executable, "-m", "photoflux_desktop", "verify", str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(verify.stdout)
    assert report["metadata"]["ai_generated"] is True
    assert report["metadata"]["parameters"]["mode"] == "text-to-image"
    assert report["watermark"]["detected"], report


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ([], "Nothing to generate"),
        (["--prompt", "a cat", "--model", "instant"], "cannot generate from text"),
        (["--prompt", "a cat", "--adapter", "nobody"], "no adapter named 'nobody'"),
        (["--prompt", "a cat", "--style", "no-such-style"], "no-such-style"),
        (["--prompt", "a cat", "-o", "{tmp}/out.gif"], ".gif"),
    ],
)
def test_bad_input_is_exit_2_with_what_to_do_and_no_file(capsys, tmp_path, args, words):
    out = tmp_path / "out.png"
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "-o" not in argv:
        argv += ["-o", str(out)]
    code, payload = run_json(capsys, "generate", *argv)
    assert code == 2 and not payload["ok"]
    assert words in payload["error"]["message"] + payload["error"]["hint"]
    assert list(tmp_path.iterdir()) == []


def test_a_size_out_of_range_is_refused_before_any_work(capsys, tmp_path):
    code = main(["generate", "--prompt", "a cat", "--width", "5000", "-o", str(tmp_path / "o.png")])
    assert code == 2
    assert "width must be between 64 and 2048" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_no_model_installed_is_exit_3_naming_the_download(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PHOTOFLUX_MODELS_DIR", str(tmp_path / "models"))
    code, payload = run_json(capsys, "generate", "--prompt", "a cat", "-o", str(tmp_path / "o.png"))
    assert code == 3 and "photoflux models download" in payload["error"]["hint"]
    assert not Path(tmp_path / "o.png").exists()
