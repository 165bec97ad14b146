"""The likeness score (dlib's 5-point alignment + ResNet descriptor, real weights from
face-recognition-models, offline) and --min-likeness retries on the tiny pipelines."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from photoflux_desktop.cli import main
from photoflux_desktop.engine.checks.likeness import (
    SHAPE_MODEL,
    WARN_SCORE,
    LikenessMeasure,
    check_likeness,
    face_identity,
    models_folder,
    score_from_distance,
)
from photoflux_desktop.engine.diffusion.tiny_likeness import install_tiny_likeness
from photoflux_desktop.engine.likeness import MAX_TRIES
from photoflux_desktop.engine.local_renderer import LocalRenderer
from photoflux_desktop.engine.provenance import read_record
from photoflux_desktop.engine.request import RenderRequest
from tests.conftest import DATA


def _photo(name: str) -> Image.Image:
    with Image.open(DATA / name) as image:
        return image.convert("RGB")


def _restyled(photo: Image.Image) -> Image.Image:
    """Flipped, channels swapped and toned: the same person, lightly styled."""
    pixels = np.asarray(ImageOps.mirror(photo), dtype=np.float32)[..., [2, 0, 1]]
    return Image.fromarray(np.clip(pixels * 0.8 + 30, 0, 255).astype(np.uint8))


def test_the_score_ranks_same_above_styled_above_another_person():
    photo = _photo("astronaut.png")
    same = check_likeness(photo, photo)
    styled = check_likeness(_restyled(photo), photo)
    other = check_likeness(_photo("grace_hopper.jpg"), photo)
    assert same.value == pytest.approx(1.0) and same.passed
    assert same.value > styled.value > other.value
    assert styled.passed and styled.value > WARN_SCORE  # still the same person for dlib
    assert not other.passed and "below" in other.reason  # another person is flagged


def test_no_face_in_the_photo_is_a_skip_and_a_lost_face_a_failure():
    cat, photo = _photo("chelsea.jpg"), _photo("astronaut.png")
    skipped = check_likeness(photo, cat)
    assert skipped.skipped and skipped.passed and skipped.value is None
    assert skipped.reason == "no face in the photo"
    lost = check_likeness(cat, photo)
    assert not lost.passed and not lost.skipped and lost.value is None
    assert "result has none" in lost.reason


def test_the_documented_score_scale_and_the_5_point_model():
    assert score_from_distance(0.0) == 1.0
    assert score_from_distance(0.6) == pytest.approx(WARN_SCORE)  # dlib's same-person line
    assert score_from_distance(1.5) == 0.0
    assert (models_folder() / SHAPE_MODEL).is_file()
    assert face_identity() is face_identity()  # loaded once


def _walk_numbers(value) -> list[list]:
    """Every list of 16+ numbers anywhere in a JSON value (a descriptor has 128)."""
    found = []
    if isinstance(value, dict):
        for item in value.values():
            found += _walk_numbers(item)
    elif isinstance(value, list):
        if len(value) >= 16 and all(isinstance(x, int | float) for x in value):
            found.append(value)
        for item in value:
            found += _walk_numbers(item)
    return found


def test_cli_min_likeness_retries_on_a_real_pipeline_and_keeps_only_the_score(
    tiny_models, astronaut_path, tmp_path, monkeypatch, capsys
):
    """The real dlib model on the tiny SD: its noise output has no face, so every try
    is below --min-likeness; three tries, each reported, and only scores are written."""
    out = tmp_path / "out.png"
    argv = ["render", str(astronaut_path), "-o", str(out), "--model", str(tiny_models["sd"])]
    argv += ["--steps", "1", "--seed", "3", "--max-side", "64", "--strength", "0.6"]
    monkeypatch.setenv("PHOTOFLUX_MODELS_DIR", str(tmp_path / "no-models"))
    assert main([*argv, "--min-likeness", "0.9", "--json"]) == 0
    done = capsys.readouterr()
    payload = json.loads(done.out)
    likeness = payload["likeness"]
    assert likeness["face_in_photo"] is True and likeness["face_in_result"] is False
    attempts = likeness["attempts"]
    assert [a["attempt"] for a in attempts] == list(range(1, MAX_TRIES + 1))
    # no add-on installed: each try goes closer to the photo, same seed
    assert [a["strength"] for a in attempts] == [0.6, 0.45, 0.3]
    assert {a["seed"] for a in attempts} == {3} and not any(a["reached"] for a in attempts)
    assert payload["result"]["likeness"] == likeness
    record = read_record(out)
    assert any(check["name"] == "likeness" for check in record["checks"])
    assert _walk_numbers(payload) == [] and _walk_numbers(record) == []
    assert "descriptor" not in done.out + done.err + json.dumps(record)


class _Scores:
    """A scorer that reports the given scores in turn (forces the retry path)."""

    def __init__(self, *scores: float) -> None:
        self.set(*scores)

    def set(self, *scores: float) -> _Scores:
        self.scores = list(scores)
        self.calls = 0
        return self

    def __call__(self, output, photo) -> LikenessMeasure:
        score = self.scores[min(self.calls, len(self.scores) - 1)]
        self.calls += 1
        return LikenessMeasure(score, photo_face=True, result_face=True)


def _request(model: Path | str, photo: Image.Image, **fields) -> RenderRequest:
    return RenderRequest(
        image=photo,
        style_id="comic",
        model=str(model),
        seed=7,
        steps=None if model == "instant" else 1,
        max_side=64,
        previews=False,
        min_likeness=0.6,
        **fields,
    )


@pytest.fixture(scope="module")
def scored_renderer(tiny_models, tmp_path_factory) -> tuple[LocalRenderer, _Scores]:
    """One renderer (its pipelines stay loaded) with the canny add-on installed and a
    scorer each test sets."""
    root = tmp_path_factory.mktemp("canny-models")
    install_tiny_likeness(tiny_models["sd"], "sd", root)
    scorer = _Scores(1.0)
    return LocalRenderer(root, likeness_scorer=scorer), scorer


def test_stronger_conditioning_each_try_and_the_best_try_wins(
    tiny_models, scored_renderer, small_photo
):
    renderer, scorer = scored_renderer
    scorer.set(0.3, 0.55, 0.4)
    result = renderer.render(_request(tiny_models["sd"], small_photo, likeness="canny"))
    attempts = result.report["likeness_attempts"]
    assert scorer.calls == MAX_TRIES and [a["score"] for a in attempts] == [0.3, 0.55, 0.4]
    scales = [a["likeness_scale"] for a in attempts]
    strengths = [a["strength"] for a in attempts]
    assert scales == sorted(scales) and len(set(scales)) == 3  # binds harder each try
    assert strengths == sorted(strengths, reverse=True) and len(set(strengths)) == 3
    assert result.report["likeness_best_attempt"] == 2  # the best score is kept
    assert result.parameters.likeness_scale == scales[1]
    assert result.likeness_summary()["score"] == 0.55
    assert "best (try 2, 0.55)" in result.notes[-1]


def test_without_a_mode_the_retry_turns_on_structure_and_stops_when_reached(
    tiny_models, scored_renderer, small_photo
):
    renderer, scorer = scored_renderer
    scorer.set(0.2, 0.7)
    result = renderer.render(_request(tiny_models["sd"], small_photo))
    attempts = result.report["likeness_attempts"]
    assert [a["likeness"] for a in attempts] == ["none", "canny"]
    assert attempts[1]["reached"] and result.parameters.likeness == "canny"
    assert "reached 0.70" in result.notes[-1]


def test_no_retry_above_the_minimum_or_without_a_face(small_photo, tmp_path):
    renderer = LocalRenderer(tmp_path, likeness_scorer=_Scores(0.8))
    result = renderer.render(_request("instant", small_photo))
    assert "likeness_attempts" not in result.report and result.likeness_summary()["passed"]
    no_face = LocalRenderer(
        tmp_path, likeness_scorer=lambda out, photo: LikenessMeasure(None, False, False)
    )
    result = no_face.render(_request("instant", small_photo))
    assert "likeness_attempts" not in result.report
    assert result.likeness_summary()["face_in_photo"] is False


def test_min_likeness_travels_on_the_wire_and_is_checked(small_photo):
    request = RenderRequest(image=small_photo, style_id="comic", min_likeness=0.7)
    plain, image = request.to_wire()
    assert RenderRequest.from_wire(plain, image).min_likeness == 0.7
    assert "min_likeness" not in RenderRequest(image=small_photo, style_id="comic").to_wire()[0]
    with pytest.raises(Exception, match="min_likeness"):
        RenderRequest(image=small_photo, style_id="comic", min_likeness=1.5)
