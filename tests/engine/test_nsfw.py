"""NSFW screening: the real NudeNet offline on the test photos, the flagged path through
an injected detector, and a broken detector as a visible failure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photoflux_desktop.engine.checks import nsfw
from photoflux_desktop.engine.checks.nsfw import (
    Detection,
    NsfwError,
    NsfwPolicy,
    NudeNetDetector,
    get_detector,
    register_detector,
    screen,
)
from photoflux_desktop.engine.local_renderer import LocalRenderer
from photoflux_desktop.engine.provenance import result_record
from photoflux_desktop.engine.request import RenderRequest

DATA = Path(__file__).parent.parent / "data"
PHOTOS = ["astronaut.png", "chelsea.jpg", "coffee.jpg", "rocket.jpg"]


class FlaggingDetector:
    """Says every image shows exposed breasts at 0.91 (and a face, which never counts)."""

    def detect(self, image: Image.Image) -> list[Detection]:
        return [
            Detection("FACE_FEMALE", 0.95, (0, 0, 10, 10)),
            Detection("FEMALE_BREAST_EXPOSED", 0.91, (5, 5, 20, 20)),
        ]


class RaisingDetector:
    def detect(self, image: Image.Image) -> list[Detection]:
        raise RuntimeError("inference session crashed")


@pytest.fixture
def detectors():
    register_detector("flagging", FlaggingDetector)
    register_detector("raising", RaisingDetector)
    yield
    for name in ("flagging", "raising", "missing-model"):
        nsfw.DETECTORS.pop(name, None)
        nsfw._loaded.detectors.pop(name, None)


@pytest.mark.parametrize("name", PHOTOS)
def test_nudenet_loads_offline_and_passes_the_test_photos(name):
    with Image.open(DATA / name) as image:
        check = screen(image.convert("RGB"), "nsfw_input")
    assert check.passed, check.reason
    assert check.value is not None and check.value < nsfw.DEFAULT_THRESHOLD
    assert nsfw.load_time("nudenet") is not None  # loaded once, and timed


def test_nudenet_sees_the_astronauts_face_so_the_model_really_ran(astronaut):
    labels = {d.label for d in get_detector("nudenet").detect(astronaut)}
    assert "FACE_FEMALE" in labels


def test_a_flagged_render_is_blurred_labelled_and_says_why(astronaut, detectors):
    renderer = LocalRenderer(nsfw=NsfwPolicy(detector="flagging"))
    result = renderer.render(
        RenderRequest(image=astronaut, style_id="pencil-sketch", model="instant")
    )
    checks = {c["name"]: c for c in result.checks}
    for name in ("nsfw_input", "nsfw_output"):
        assert checks[name]["passed"] is False
        assert checks[name]["value"] == pytest.approx(0.91)
        assert "female breast exposed" in checks[name]["reason"]
        assert "face" not in checks[name]["reason"]  # not a class the policy counts
    assert any("blurred" in note for note in result.notes)
    # strongly blurred: almost no edges are left, unlike the sketch itself
    lenient = LocalRenderer(nsfw=NsfwPolicy(detector="flagging", threshold=0.99))
    unblurred = lenient.render(
        RenderRequest(image=astronaut, style_id="pencil-sketch", model="instant")
    )
    assert all(c["passed"] for c in unblurred.checks if c["name"].startswith("nsfw"))
    assert _edges(result.image) < 0.2 * _edges(unblurred.image)
    # the record written into the file carries the reason
    record = result_record(result)
    assert any(c["name"] == "nsfw_output" and not c["passed"] for c in record["checks"])


def test_the_policy_decides_which_classes_and_scores_flag(astronaut, detectors):
    only_genitalia = NsfwPolicy(classes=("MALE_GENITALIA_EXPOSED",), detector="flagging")
    assert screen(astronaut, "nsfw_output", only_genitalia).passed
    high = NsfwPolicy(threshold=0.95, detector="flagging")
    assert screen(astronaut, "nsfw_output", high).passed


def test_a_raising_detector_is_a_failed_check_not_a_pass(astronaut, detectors):
    check = screen(astronaut, "nsfw_output", NsfwPolicy(detector="raising"))
    assert check.passed is False and check.value is None
    assert "Could not screen" in check.reason and "inference session crashed" in check.reason


def test_a_missing_model_file_is_an_error_and_the_render_says_so(astronaut, tmp_path, detectors):
    missing = tmp_path / "gone.onnx"
    with pytest.raises(NsfwError, match="could not be loaded"):
        NudeNetDetector(model_path=str(missing))
    register_detector("missing-model", lambda: NudeNetDetector(model_path=str(missing)))
    renderer = LocalRenderer(nsfw=NsfwPolicy(detector="missing-model"))
    result = renderer.render(
        RenderRequest(image=astronaut, style_id="pencil-sketch", model="instant")
    )
    failed = {c["name"]: c for c in result.checks if not c["passed"]}
    assert {"nsfw_input", "nsfw_output"} <= failed.keys()
    assert "could not be loaded" in failed["nsfw_output"]["reason"]


def test_an_unknown_detector_name_is_a_failed_check(astronaut):
    check = screen(astronaut, "nsfw_input", NsfwPolicy(detector="nope"))
    assert not check.passed and "no NSFW detector named 'nope'" in check.reason


def _edges(image: Image.Image) -> float:
    """Mean horizontal gradient of the top third (above the label band)."""
    grey = np.asarray(image.convert("L"), dtype=np.float32)[: image.height // 3]
    return float(np.abs(np.diff(grey, axis=1)).mean())


def test_a_photo_rendered_again_is_screened_once(astronaut, detectors):
    seen: list[tuple[int, int]] = []

    class Counting:
        def detect(self, image: Image.Image) -> list[Detection]:
            seen.append(image.size)
            return []

    register_detector("counting", Counting)
    renderer = LocalRenderer(nsfw=NsfwPolicy(detector="counting"))
    request = RenderRequest(image=astronaut, style_id="pencil-sketch", model="instant")
    for _ in range(3):
        result = renderer.render(request)
        assert {"nsfw_input", "nsfw_output"} <= {c["name"] for c in result.checks}
    assert len(seen) == 1 + 3  # the photo once, each result every time
    nsfw.DETECTORS.pop("counting", None)
