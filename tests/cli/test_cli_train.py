"""`photoflux train` and `--adapter` end to end, on a micro SD model and real photos.

One training story is shared by the tests (training is the slow part): the CLI trains,
is stopped with Ctrl+C after its first checkpoint, and is resumed to the end.

Torch runs on one thread here: the micro model's tensors are too small to gain from
more, and on a busy CI machine two intra-op threads waiting on each other made every
step up to 20x slower (0.05 s -> 1 s a step with load average 5 on 2 cores).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from photoflux_desktop.cli import main
from photoflux_desktop.engine.training.tiny import build_micro_pipeline
from tests.cli.test_cli_basics import run_json
from tests.conftest import DATA

STEPS, CHECKPOINT_EVERY = 16, 4
TRAIN_ARGS = (
    "--steps", str(STEPS), "--rank", "4", "--resolution", "64", "--learning-rate", "1e-2",
    "--checkpoint-every", str(CHECKPOINT_EVERY), "--sample-steps", "2", "--augment", "2",
    "--class-word", "robot",  # not a person: the face checks have their own test
)  # fmt: skip
FACE_CROPS = ((0, 0, 400, 400), (50, 20, 450, 420))


def _photos(folder: Path) -> Path:
    folder.mkdir()
    with Image.open(DATA / "astronaut.png") as im:
        portrait = im.convert("RGB")
    for index, box in enumerate(FACE_CROPS):
        crop = portrait.crop(box)
        crop.save(folder / f"front-{index}.png")
        crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(folder / f"mirror-{index}.png")
    return folder


def _photoflux(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "photoflux_desktop", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory, one_thread: None) -> dict:
    root = tmp_path_factory.mktemp("train-story")
    model = build_micro_pipeline("sd", root / "micro-sd")
    photos = _photos(root / "photos")
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "OMP_NUM_THREADS": "1",  # see the module's docstring
        "HF_HUB_OFFLINE": "1",
        "PHOTOFLUX_DATA_DIR": str(root / "data"),
        "PHOTOFLUX_CONFIG_DIR": str(root / "config"),
        "PHOTOFLUX_CACHE_DIR": str(root / "cache"),
        "PHOTOFLUX_MODELS_DIR": str(root / "models"),
    }
    argv = ("train", "--images", str(photos), "--out", str(root / "anna"), "--model", str(model))
    first = _photoflux(env, *argv, *TRAIN_ARGS, "--json")
    stderr_lines = []
    deadline = time.monotonic() + 240
    for line in first.stderr:  # Ctrl+C once the first checkpoint is on disk
        stderr_lines.append(line)
        if line.startswith(f"checkpoint {CHECKPOINT_EVERY}/"):
            first.send_signal(signal.SIGINT)
            break
        assert time.monotonic() < deadline, "".join(stderr_lines)
    out, rest = first.communicate(timeout=120)
    payload = json.loads(out)
    left = Path(payload.get("error", {}).get("details", {}).get("checkpoint", "."))
    cancelled = {
        "code": first.returncode,
        "json": payload,
        "stderr": "".join(stderr_lines) + rest,
        "usable": (left / "lora.safetensors").is_file() and (left / "optimizer.pt").is_file(),
    }
    # resumed in this process (one interpreter start less), with the story's folders
    with pytest.MonkeyPatch.context() as patch:
        for name in ("DATA", "CONFIG", "CACHE", "MODELS"):
            patch.setenv(f"PHOTOFLUX_{name}_DIR", env[f"PHOTOFLUX_{name}_DIR"])
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            code = main([*argv, *TRAIN_ARGS, "--json", "--resume"])
    done = json.loads(buffer.getvalue())
    assert code == 0, done
    return {"root": root, "model": model, "photos": photos, "env": env,
            "cancelled": cancelled, "done": done}  # fmt: skip


def _use_story_folders(story: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATA", "CONFIG", "CACHE", "MODELS"):
        monkeypatch.setenv(f"PHOTOFLUX_{name}_DIR", story["env"][f"PHOTOFLUX_{name}_DIR"])


def test_ctrl_c_leaves_a_checkpoint_and_resume_repeats_the_uninterrupted_loss_curve(story):
    from photoflux_desktop.engine.training.dataset import DatasetOptions, prepare_dataset
    from photoflux_desktop.engine.training.events import TrainingJob
    from photoflux_desktop.engine.training.trainer import train

    cancelled, done = story["cancelled"], story["done"]
    assert cancelled["code"] == 130, cancelled["stderr"]
    assert cancelled["json"]["error"]["kind"] == "cancelled"
    assert "--resume" in cancelled["json"]["error"]["hint"]
    assert "Traceback" not in cancelled["stderr"]
    stopped_at = cancelled["json"]["error"]["details"]["step"]
    assert CHECKPOINT_EVERY <= stopped_at < STEPS
    assert cancelled["usable"]  # the checkpoint it named was on disk, weights and optimizer
    assert "Training on CPU, preset cpu" in cancelled["stderr"]  # shown before start
    assert "about" in cancelled["stderr"].splitlines()[0]  # ...with the expected time

    assert done["status"] == "done" and done["resumed_from"] == stopped_at
    assert done["step"] == STEPS and len(done["losses"]) == STEPS

    # the same run without interruption, through the engine API
    preset = done["preset"]
    from photoflux_desktop.engine.training.presets import TrainingPreset

    fields = {k: v for k, v in preset.items() if k != "expected_minutes"}
    dataset = prepare_dataset(story["photos"], DatasetOptions(class_word="robot", resolution=64))
    outcome = train(
        TrainingJob(
            model=str(story["model"]),
            dataset=dataset,
            out_dir=story["root"] / "uninterrupted",
            name="reference",
            preset=replace(TrainingPreset(**fields)),
            checkpoint_every=CHECKPOINT_EVERY,
            sample_steps=2,
            install=False,
        )
    )
    # bit-for-bit on CPU; 1e-6 absolute is the JSON's rounding
    assert np.allclose(done["losses"], outcome.losses, rtol=0, atol=1e-6)
    start, end = outcome.eval_loss
    assert end < 0.99 * start, outcome.eval_loss  # it learnt the photos
    # the resumed run ends with the same adapter weights as the uninterrupted one
    resumed = load_file(done["adapter_file"])
    reference = load_file(str(outcome.adapter_file))
    assert resumed.keys() == reference.keys()
    assert all(np.allclose(resumed[k].float(), reference[k].float(), atol=1e-3) for k in resumed)


def test_the_adapter_is_listed_and_changes_the_render(story, capsys, monkeypatch):
    _use_story_folders(story, monkeypatch)
    code, listing = run_json(capsys, "adapters")
    assert code == 0
    (adapter,) = listing["adapters"]
    assert adapter["name"] == "anna" and adapter["family"] == "sd"
    assert (adapter["token"], adapter["class_word"], adapter["steps"]) == ("ohwx", "robot", STEPS)
    assert adapter["base_model"] == str(story["model"].resolve()) and adapter["created"]
    assert Path(adapter["sample"]).is_file()
    with safe_open(adapter["path"], "pt") as handle:
        assert handle.metadata()["photoflux.sample_jpeg"]  # the sample travels in the file

    def render(name: str, *extra: str) -> np.ndarray:
        out = story["root"] / f"{name}.png"
        code, payload = run_json(
            capsys, "render", str(DATA / "astronaut.png"), "-o", str(out),
            "--model", str(story["model"]), "--steps", "2", "--max-side", "64", "--seed", "3",
            "--prompt", "ohwx robot", "--no-watermark", *extra,
        )  # fmt: skip
        assert code == 0, payload
        return np.asarray(Image.open(out), dtype=np.float32)

    plain = render("plain")
    with_adapter = render("anna", "--adapter", "anna:1.5")
    assert np.abs(plain - with_adapter).mean() > 0.5


def test_an_adapter_for_another_family_is_refused_by_its_metadata(story, capsys, monkeypatch):
    _use_story_folders(story, monkeypatch)
    library = Path(story["env"]["PHOTOFLUX_DATA_DIR"]) / "adapters"
    with safe_open(str(library / "anna.safetensors"), "pt") as handle:
        metadata = handle.metadata()
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118 (not a dict)
    # same UNet-shaped weights, but its metadata says it was trained on SDXL
    metadata.update({"photoflux.family": "sdxl", "photoflux.name": "xl-subject"})
    save_file(tensors, str(library / "xl-subject.safetensors"), metadata=metadata)
    code, payload = run_json(
        capsys, "render", str(DATA / "astronaut.png"), "-o", str(story["root"] / "x.png"),
        "--model", str(story["model"]), "--adapter", "xl-subject",
    )  # fmt: skip
    assert code == 2
    assert "'xl-subject' was trained on SDXL" in payload["error"]["message"]
    assert not (story["root"] / "x.png").exists()
    code, payload = run_json(capsys, "render", str(DATA / "astronaut.png"), "-o", "y.png",
                             "--adapter", "nobody")  # fmt: skip
    assert code == 2 and "no adapter named 'nobody'" in payload["error"]["message"]


def test_generate_puts_the_adapter_s_subject_in_the_prompt(story, capsys, monkeypatch):
    _use_story_folders(story, monkeypatch)

    def generate(*extra: str) -> tuple[dict, np.ndarray]:
        out = story["root"] / "generated.png"
        code, payload = run_json(
            capsys, "generate", "-o", str(out), "--model", str(story["model"]), "--steps", "2",
            "--width", "64", "--height", "64", "--seed", "3", "--style", "comic", *extra,
        )  # fmt: skip
        assert code == 0, payload
        return payload["result"]["parameters"], np.asarray(Image.open(out), dtype=np.float32)

    params, subject = generate("--adapter", "anna", "--prompt", "on a beach")
    assert params["subject"] == "ohwx robot, on a beach"
    assert params["prompt"].startswith("comic book illustration of ohwx robot, on a beach")
    params, _ = generate("--adapter", "anna", "--prompt", "ohwx robot surfing")
    assert params["subject"] == "ohwx robot surfing"  # named already: not added twice
    _, plain = generate("--prompt", "ohwx robot, on a beach")
    assert np.abs(subject - plain).mean() > 0.5  # the adapter, not just the words
