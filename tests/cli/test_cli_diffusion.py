"""`photoflux render` / `models` / `doctor` with tiny diffusion models on disk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from photoflux_desktop.cli import main
from tests.cli.test_cli_basics import run_json
from tests.engine.diffusion_fixtures import install_as


def test_render_with_a_model_folder_writes_previews_and_ai_metadata(
    capsys, tmp_path, astronaut_path, tiny_models
):
    out, previews = tmp_path / "out.png", tmp_path / "previews"
    code, payload = run_json(
        capsys,
        "render",
        str(astronaut_path),
        "-o",
        str(out),
        "--model",
        str(tiny_models["sd"]),
        "--steps",
        "3",
        "--strength",
        "1.0",
        "--seed",
        "4",
        "--max-side",
        "128",
        "--preview-dir",
        str(previews),
    )
    assert code == 0, payload
    result = payload["result"]
    assert result["backend"] == "diffusion" and result["seed"] == 4
    assert result["memory_plan"] == "full"
    assert sorted(p.name for p in previews.iterdir()) == [
        "step-001.jpg",
        "step-002.jpg",
        "step-003.jpg",
    ]
    code, report = run_json(capsys, "verify", str(out))
    assert report["metadata"]["ai_generated"] is True
    assert report["metadata"]["digital_source_type"].endswith("trainedAlgorithmicMedia")


def test_installed_model_is_listed_and_used_automatically(
    capsys, tmp_path, astronaut_path, tiny_models
):
    models_dir = Path(os.environ["PHOTOFLUX_MODELS_DIR"])
    install_as(tiny_models["sd"], models_dir, "sd-turbo")
    code, listing = run_json(capsys, "models")
    turbo = next(m for m in listing["models"] if m["id"] == "sd-turbo")
    assert turbo["installed"] and turbo["source"] == "models-folder" and turbo["bytes_on_disk"] > 0
    code, payload = run_json(
        capsys,
        "render",
        str(astronaut_path),
        "-o",
        str(tmp_path / "o.jpg"),
        "--prompt",
        "a knight",
        "--max-side",
        "128",
    )
    assert code == 0 and payload["result"]["model"] == "sd-turbo"
    code, doctor = run_json(capsys, "doctor")
    assert doctor["models_installed"] == {"sd-turbo": str(models_dir / "sd-turbo")}
    assert doctor["memory_plan"]["for_model"] == "sd-turbo"


def test_corrupt_model_is_exit_3_with_what_to_do(capsys, tmp_path, astronaut_path, tiny_models):
    models_dir = Path(os.environ["PHOTOFLUX_MODELS_DIR"])
    folder = install_as(tiny_models["sd"], models_dir, "sd-turbo")
    weights = next((folder / "unet").glob("*.safetensors"))
    weights.write_bytes(b"\x00" * 100)
    code, payload = run_json(
        capsys, "render", str(astronaut_path), "-o", str(tmp_path / "o.png"), "--model", "sd-turbo"
    )
    assert code == 3
    assert "photoflux models download sd-turbo" in payload["error"]["hint"]
    assert not (tmp_path / "o.png").exists()


def test_ctrl_c_cancels_within_a_step_and_exits_130(tmp_path, astronaut_path, tiny_models):
    previews, out = tmp_path / "previews", tmp_path / "out.png"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "photoflux_desktop",
            "render",
            str(astronaut_path),
            "-o",
            str(out),
            "--model",
            str(tiny_models["sd"]),
            "--steps",
            "100",
            "--strength",
            "1.0",
            "--max-side",
            "128",
            "--preview-dir",
            str(previews),
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 120
    while not (previews / "step-002.jpg").exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "no preview appeared"
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    payload = json.loads(stdout)
    assert payload["error"]["kind"] == "cancelled"
    assert "Traceback" not in stderr
    assert not out.exists()
    assert len(list(previews.iterdir())) < 100


def test_download_refuses_when_the_disk_is_too_small(capsys, monkeypatch):
    import shutil
    from collections import namedtuple

    monkeypatch.delenv("HF_HUB_OFFLINE")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**12, 10**12, 10**8))
    code, payload = run_json(capsys, "models", "download", "flux-schnell")
    assert code == 2
    assert "Not enough free disk space" in payload["error"]["message"]


def test_download_reports_an_unreachable_hub_as_exit_5(capsys, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on port 9
    monkeypatch.setenv("HF_HUB_ETAG_TIMEOUT", "2")
    monkeypatch.setenv("HF_HUB_DOWNLOAD_TIMEOUT", "2")
    code = main(["models", "download", "sd-turbo", "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 5, payload
    assert "already downloaded are kept" in payload["error"]["hint"]


def test_interrupted_download_exits_5_and_the_rerun_fetches_only_what_is_missing(tmp_path):
    """The real console entry point over loopback HTTP, against a fake hub that drops
    the big file's transfers; each run is a fresh process, as a user's would be."""
    from tests.fake_hub import FakeHub

    weights = os.urandom(2_000_000)
    turbo = {
        "model_index.json": b'{"_class_name": "StableDiffusionPipeline"}',
        "unet/config.json": b"{}",
        "unet/diffusion_pytorch_model.fp16.safetensors": weights,
    }
    taesd = {"config.json": b"{}", "diffusion_pytorch_model.safetensors": b"x" * 1000}
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}

    def download() -> tuple[int, dict]:
        proc = subprocess.run(
            [sys.executable, "-m", "photoflux_desktop", "models", "download", "sd-turbo", "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert "Traceback" not in proc.stderr
        return proc.returncode, json.loads(proc.stdout)

    with FakeHub({"stabilityai/sd-turbo": turbo, "madebyollin/taesd": taesd}) as hub:
        env["HF_ENDPOINT"] = hub.url
        hub.cut_after["unet/diffusion_pytorch_model.fp16.safetensors"] = [100_000] * 8
        code, payload = download()
        assert code == 5, payload
        assert "already downloaded are kept" in payload["error"]["hint"]
        hub.cut_after.clear()
        code, payload = download()
        assert code == 0, payload
    folder = Path(payload["download"]["path"])
    assert (folder / "unet/diffusion_pytorch_model.fp16.safetensors").read_bytes() == weights
    gets = [r for r in hub.requests if r.startswith("GET") and r.endswith("model_index.json")]
    assert len(gets) == 1  # completed files are not fetched again
