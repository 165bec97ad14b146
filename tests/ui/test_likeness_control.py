"""The side panel's Likeness control: mode, strength and retry threshold reach the
request; after a render the score shows, with a warning when likeness was lost."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from photoflux_desktop.engine.checks.likeness import LikenessMeasure
from photoflux_desktop.engine.local_renderer import LocalRenderer
from tests.ui.test_main_window import drop_file, render_and_wait


def _choose(qtbot, combo, label: str) -> None:
    """Pick an entry the way a keyboard user does: focus, then type its first letters."""
    combo.setFocus()
    qtbot.keyClicks(combo, label)
    assert combo.currentText() == label


def test_the_control_sets_mode_strength_and_retry_on_the_request(qtbot, window, astronaut):
    control = window.params.likeness_control
    window.params.show()
    assert not control.strength.isEnabled()  # off: nothing to set a strength for
    _choose(qtbot, control.mode, "Face")
    assert control.strength.isEnabled() and control.strength_label.text() == "Auto"
    control.strength.setFocus()
    for _ in range(12):  # the arrow keys move the slider a tick (0.1) each
        qtbot.keyClick(control.strength, Qt.Key.Key_Right)
    assert control.strength_label.text() == "1.2"
    control.min_score.setFocus()
    control.min_score.selectAll()
    qtbot.keyClicks(control.min_score, "0.65")
    request = window.batches.base_request(astronaut)
    assert request.likeness == "face" and request.likeness_strength == 1.2
    assert request.min_likeness == 0.65
    qtbot.keyClick(control.mode, Qt.Key.Key_Home)  # back to the first entry
    assert control.mode.currentText() == "Off"
    control.min_score.selectAll()
    qtbot.keyClicks(control.min_score, "0")
    request = window.batches.base_request(astronaut)
    assert request.likeness == "none" and request.likeness_strength is None
    assert request.min_likeness is None


def test_the_score_shows_after_a_render_from_the_real_face_model(qtbot, window, astronaut_path):
    drop_file(window.compare, astronaut_path)
    window.gallery.select("pencil-sketch")
    window.params.set_model("instant")
    result = render_and_wait(qtbot, window)
    score = window.params.likeness_control.score
    summary = result.likeness_summary()
    assert summary["face_in_photo"] and summary["passed"]
    assert score.isVisible() and score.text() == f"Likeness {summary['score']:.2f}: still them"
    assert not score.property("warning")


@pytest.fixture
def losing_window(qtbot):
    """A real window whose renderer measures every result as another person."""
    from photoflux_desktop.ui.main_window import MainWindow

    def another_person(output, photo):
        return LikenessMeasure(0.21, photo_face=True, result_face=True)

    win = MainWindow(renderer=LocalRenderer(likeness_scorer=another_person))
    qtbot.addWidget(win)
    win.resize(1100, 760)
    with qtbot.waitSignal(win.firstShown, timeout=5000):
        win.show()
    yield win
    if win.controller.busy:
        win.controller.cancel()
        win.controller.wait(30000)


def test_a_lost_likeness_is_a_visible_warning_after_every_try(qtbot, losing_window, astronaut_path):
    window = losing_window
    drop_file(window.compare, astronaut_path)
    window.params.set_model("instant")
    control = window.params.likeness_control
    control.min_score.setFocus()
    control.min_score.selectAll()
    qtbot.keyClicks(control.min_score, "0.6")
    result = render_and_wait(qtbot, window)
    assert len(result.report["likeness_attempts"]) == 3
    assert control.score.isVisible() and control.score.property("warning")
    assert control.score.text() == "⚠ Likeness lost: 0.21 after 3 tries (may not look like them)"
    assert "Likeness stayed below 0.60 after 3 tries" in result.notes[-1]
