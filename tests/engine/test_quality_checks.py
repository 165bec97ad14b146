"""Quality checks: synthetic broken outputs are flagged, the test photos pass."""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter

from photoflux_desktop.cli import main
from photoflux_desktop.engine.checks import faces
from photoflux_desktop.engine.checks.quality import quality_checks
from photoflux_desktop.engine.provenance import read_record
from tests.conftest import DATA

# the team's shared photos sit beside the checkout (or beside the worktrees' folder)
REPO = Path(__file__).resolve().parents[2]
SHARED = [base / "shared" / "testdata" for base in (REPO.parent, REPO.parent.parent)]
PHOTOS = sorted(
    path
    for folder in (DATA, *SHARED)
    if folder.is_dir()
    for path in folder.iterdir()
    if path.suffix in {".png", ".jpg"}
)


def failed(output, source) -> dict[str, dict]:
    return {
        check.name: check.to_dict() for check in quality_checks(output, source) if not check.passed
    }


@pytest.mark.parametrize("path", PHOTOS, ids=lambda path: path.name)
def test_test_photos_pass_every_check(path):
    with Image.open(path) as im:
        photo = im.convert("RGB")
    assert failed(photo, photo) == {}


def test_broken_outputs_are_flagged_with_a_reason(astronaut):
    width, height = astronaut.size
    blank = Image.new("RGB", astronaut.size, (128, 120, 110))
    black = Image.new("RGB", astronaut.size, (0, 0, 0))
    nan_decoded = np.full((height, width, 3), np.nan, dtype=np.float32)  # fp16 VAE overflow
    blurred = astronaut.filter(ImageFilter.GaussianBlur(8))
    clipped = ImageEnhance.Contrast(astronaut).enhance(8.0)
    dark = ImageEnhance.Brightness(astronaut).enhance(0.08)

    assert {"blank", "blur"} <= set(failed(blank, astronaut))
    assert {"black_frame", "blank"} <= set(failed(black, astronaut))
    assert {"finite", "black_frame"} <= set(failed(nan_decoded, astronaut))
    assert "blur" in failed(blurred, astronaut)
    assert "clipping" in failed(clipped, astronaut)
    assert "exposure" in failed(dark, astronaut)
    problem = failed(blurred, astronaut)["blur"]
    assert problem["value"] < problem["threshold"] and "blurred" in problem["reason"]


def test_a_lost_face_is_flagged_and_no_face_is_no_problem(astronaut, rocket_path):
    pixelated = astronaut.resize((16, 16)).resize(astronaut.size, Image.Resampling.NEAREST)
    lost = failed(pixelated, astronaut)["face_kept"]
    assert lost["value"] == 0 and "lost" in lost["reason"]
    with Image.open(rocket_path) as im:
        rocket = im.convert("RGB")
    kept = {check.name: check for check in quality_checks(rocket, rocket)}["face_kept"]
    assert kept.passed and kept.value == 0 and not kept.skipped


def test_without_a_face_detector_the_face_check_is_skipped(astronaut, monkeypatch):
    monkeypatch.setattr(faces, "_loaded", {"detector": None})
    from photoflux_desktop.engine.checks import quality

    check = {c.name: c for c in quality.quality_checks(astronaut, astronaut)}["face_kept"]
    assert check.skipped and check.passed and "no face detector" in check.reason


def test_render_json_and_metadata_carry_the_checks(capsys, tmp_path, astronaut_path):
    out = tmp_path / "out.png"
    code = main(["render", str(astronaut_path), "-o", str(out), "--style", "watercolor", "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    names = [check["name"] for check in payload["checks"]]
    assert names[:7] == [
        "finite",
        "black_frame",
        "blank",
        "blur",
        "exposure",
        "clipping",
        "face_kept",
    ]
    assert "likeness" in names  # the identity score (engine/checks/likeness.py)
    assert {"nsfw_input", "nsfw_output"} <= set(names)  # the safety screen follows
    assert "style_consistency" in names  # other families' checks follow the quality ones
    assert all(
        {"passed", "value", "threshold", "reason", "time_s"} <= set(c) for c in payload["checks"]
    )
    assert read_record(out)["checks"] == payload["checks"]


def test_face_crop_for_the_face_adapter(astronaut, rocket_path):
    crop = faces.face_crop(astronaut)
    assert crop.width < astronaut.width / 2 and crop.height < astronaut.height / 2
    assert faces.face_detector().count(crop) == 1  # the face is inside, whole
    with Image.open(rocket_path) as im:
        rocket = im.convert("RGB")
    assert faces.face_crop(rocket).size == rocket.size  # no face: the whole photo


def test_a_render_s_checks_look_for_faces_once_per_image(astronaut, monkeypatch):
    """face_kept and the likeness score both need the photo's and the result's faces:
    dlib's detector (~0.15 s a call) runs once per distinct image, and changed pixels
    are looked at again."""
    from photoflux_desktop.engine.checks.likeness import check_likeness

    detector = faces.face_detector()
    if detector is None:
        pytest.skip("dlib is not installed")
    monkeypatch.setattr(detector, "_seen", OrderedDict())  # earlier tests may have seen these
    calls = []
    real = detector._detector
    monkeypatch.setattr(detector, "_detector", lambda px, up: calls.append(1) or real(px, up))
    result = astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    kept = {c.name: c for c in quality_checks(result, astronaut)}["face_kept"]
    likeness = check_likeness(result, astronaut)
    assert kept.passed and likeness.value is not None
    assert len(calls) == 2
    result.putpixel((0, 0), (1, 2, 3))  # the same object, other pixels
    check_likeness(result, astronaut)
    assert len(calls) == 3
