"""Quality limits widen to what a style's own reference renders do, never narrow.

Without this a pencil sketch (white paper: half its pixels "blown") and a claymation face
(which the detector no longer finds) were flagged on every render, and studio mode would
hold every such delivery for the operator."""

from __future__ import annotations

import pytest
from PIL import Image

from photoflux_desktop.engine.checks import quality
from photoflux_desktop.engine.checks.style_expect import StyleExpectations, expectations_for
from photoflux_desktop.engine.instant_styles import apply_instant_style
from photoflux_desktop.engine.local_renderer import LocalRenderer
from photoflux_desktop.engine.request import RenderRequest


def _checks(result) -> dict[str, dict]:
    return {check["name"]: check for check in result.checks}


def test_a_pencil_sketch_is_white_paper_by_design_not_a_blown_exposure(astronaut):
    sketch = apply_instant_style(astronaut, "pencil-sketch", 1.0, 3)
    out, src = quality._grey(sketch), quality._grey(astronaut)
    generic = quality.check_clipping(out, src)
    assert not generic.passed  # the generic limit alone flags it: the reason for all this
    expect = expectations_for("pencil-sketch", "instant")
    assert expect is not None and expect.clipped_max > quality.CLIPPED_SHARE
    judged = quality.check_clipping(out, src, expect)
    assert judged.passed and "as this style's own renders are" in judged.reason

    result = LocalRenderer().render(
        RenderRequest(image=astronaut, style_id="pencil-sketch", model="instant", seed=3)
    )
    failed = [name for name, check in _checks(result).items() if not check["passed"]]
    assert failed == []


def test_expectations_never_excuse_a_broken_frame(astronaut):
    expect = expectations_for("pencil-sketch", "instant")
    white = Image.new("RGB", astronaut.size, (255, 255, 255))
    found = {c.name: c for c in quality.quality_checks(white, astronaut, expect)}
    assert not found["blank"].passed
    assert not found["clipping"].passed  # 100 % blown is beyond any sketch's paper


def test_a_style_whose_faces_the_detector_misses_is_not_judged_on_faces(astronaut):
    expect = expectations_for("claymation", "instant")
    assert expect is not None and expect.faces_unreliable
    clay = apply_instant_style(astronaut, "clay", 1.0, 0)  # the claymation preset's look
    generic = quality.check_face_kept(clay, astronaut)
    judged = quality.check_face_kept(clay, astronaut, expect)
    if generic.passed:  # the detector happened to find this one: nothing to excuse
        assert judged.passed and not judged.skipped
        return
    assert judged.passed and judged.skipped and "rarely recognises" in judged.reason


def test_styles_that_keep_faces_are_still_held_to_it(astronaut):
    expect = expectations_for("watercolor", "instant")
    assert expect is not None and not expect.faces_unreliable
    faceless = Image.new("RGB", astronaut.size, (120, 110, 100))
    check = quality.check_face_kept(faceless, astronaut, expect)
    assert not check.passed and "the face was lost" in check.reason


@pytest.mark.parametrize("backend", ["diffusion", "openvino"])
def test_diffusion_renders_have_no_expectations_until_real_references_exist(backend):
    assert expectations_for("pencil-sketch", backend) is None
    assert expectations_for(None, "instant") is None


def test_a_dark_style_widens_the_exposure_range_only_downwards():
    expect = StyleExpectations(mean_range=(10.0, 100.0))
    dark = quality.check_exposure(
        quality._grey(Image.new("RGB", (64, 64), (8, 8, 8))),
        quality._grey(Image.new("RGB", (64, 64), (128, 128, 128))),
        expect,
    )
    assert dark.passed
    bright = quality.check_exposure(
        quality._grey(Image.new("RGB", (64, 64), (250, 250, 250))),
        quality._grey(Image.new("RGB", (64, 64), (128, 128, 128))),
        expect,
    )
    assert not bright.passed


def test_likeness_is_not_measured_where_the_style_hides_faces_from_the_detector(astronaut):
    from photoflux_desktop.engine.checks.likeness import LikenessMeasure, check_likeness

    def face_lost(output, photo):
        return LikenessMeasure(None, True, False)

    clay = expectations_for("claymation", "instant")
    excused = check_likeness(astronaut, astronaut, face_lost, clay)
    assert excused.passed and excused.skipped and "rarely recognises" in excused.reason
    held = check_likeness(
        astronaut, astronaut, face_lost, expectations_for("watercolor", "instant")
    )
    assert not held.passed and "has none" in held.reason


def test_the_likeness_line_drops_to_what_the_style_itself_reaches_never_rises(astronaut):
    from photoflux_desktop.engine.checks.likeness import (
        WARN_SCORE,
        LikenessMeasure,
        check_likeness,
    )

    def scoring(score):
        return lambda output, photo: LikenessMeasure(score, True, True)

    watercolor = expectations_for("watercolor", "instant")
    assert watercolor.likeness_min is not None and watercolor.likeness_min < WARN_SCORE
    within = check_likeness(astronaut, astronaut, scoring(watercolor.likeness_min), watercolor)
    assert within.passed and "this style redraws faces" in within.reason
    beyond = check_likeness(astronaut, astronaut, scoring(0.1), watercolor)
    assert not beyond.passed and "may no longer be recognisable" in beyond.reason
    portrait = expectations_for("studio-portrait", "instant")
    assert portrait.likeness_min > WARN_SCORE
    held = check_likeness(astronaut, astronaut, scoring(WARN_SCORE - 0.01), portrait)
    assert not held.passed and held.threshold == WARN_SCORE
