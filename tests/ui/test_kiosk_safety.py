"""The kiosk's delivery hold: a guest's flagged picture is never e-mailed, shared or
printed while the studio forbids it; one with a failed check goes out only after the
operator's PIN."""

# ruff: noqa: F811  (the kiosk fixtures are imported from test_kiosk)
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from photoflux_desktop.engine.checks import nsfw
from photoflux_desktop.engine.checks.nsfw import Detection, register_detector
from photoflux_desktop.engine.settings import Settings, save_settings
from photoflux_desktop.ui.kiosk.delivery_gate import FORBIDDEN, WAITING
from tests.ui.test_kiosk import GUEST_EMAIL, PIN, _rows, _type_pin, kiosk, outbox  # noqa: F401


class Flagging:
    def detect(self, image):
        return [Detection("MALE_GENITALIA_EXPOSED", 0.97, (0, 0, 4, 4))]


class Broken:
    def detect(self, image):
        raise RuntimeError("model file unreadable")


@pytest.fixture
def detector(request):
    register_detector("kiosk-test", request.param)
    save_settings(Settings(nsfw_detector="kiosk-test"))  # the renderer reads the policy here
    yield
    nsfw.DETECTORS.pop("kiosk-test", None)
    nsfw._loaded.detectors.pop("kiosk-test", None)


def _click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def _render_and_ask_for_email(qtbot, kiosk) -> None:
    _click(qtbot, kiosk.attract.start_button)
    qtbot.waitUntil(kiosk.capture.shoot_button.isEnabled, timeout=10000)
    _click(qtbot, kiosk.capture.shoot_button)
    qtbot.waitUntil(lambda: kiosk.pages.currentWidget() is kiosk.styles, timeout=5000)
    with qtbot.waitSignal(kiosk.revealed, timeout=30000):
        _click(qtbot, kiosk.styles.tiles["vintage-film"])
    _click(qtbot, kiosk.result_page.home_button)
    form = kiosk.deliver.form
    qtbot.keyClicks(form.email, GUEST_EMAIL)
    _click(qtbot, form.processing)
    _click(qtbot, form.send_button)


@pytest.mark.parametrize("detector", [Flagging], indirect=True)
def test_a_flagged_picture_never_leaves_the_kiosk(qtbot, kiosk, outbox, detector):
    _render_and_ask_for_email(qtbot, kiosk)
    assert _rows(outbox, "lead") == [] and _rows(outbox, "delivery") == []
    assert kiosk.deliver.form.form_message.text() == FORBIDDEN
    assert kiosk.pin_dialog is None  # not even the operator can release it
    _click(qtbot, kiosk.deliver.qr_button)
    assert _rows(outbox, "share") == [] and kiosk.deliver.qr_note.text() == FORBIDDEN
    kiosk.print_result()
    assert kiosk.result_page.status.text() == FORBIDDEN


@pytest.mark.parametrize("detector", [Broken], indirect=True)
def test_an_unscreened_picture_goes_out_after_the_operator_pin(qtbot, kiosk, outbox, detector):
    _render_and_ask_for_email(qtbot, kiosk)
    assert _rows(outbox, "delivery") == []
    assert kiosk.deliver.form.form_message.text() == WAITING
    _type_pin(qtbot, kiosk.pin_dialog, PIN)
    (delivery,) = _rows(outbox, "delivery")
    assert delivery["style"] == "vintage-film"
