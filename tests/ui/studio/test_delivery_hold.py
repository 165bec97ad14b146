"""Studio deliveries of a result with a failed check wait for the operator (Approve /
Discard); a flagged image cannot be approved while the studio forbids it; the desktop
export of a flagged image asks first or is refused per setting."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from photoflux_desktop.engine.checks import nsfw
from photoflux_desktop.engine.checks.likeness import LikenessMeasure
from photoflux_desktop.engine.checks.nsfw import Detection, NsfwPolicy, register_detector
from tests.ui.studio.test_window_studio import outbox_items
from tests.ui.test_main_window import drop_file, render_and_wait


class Flagging:
    def detect(self, image):
        return [Detection("ANUS_EXPOSED", 0.93, (0, 0, 4, 4))]


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=widget.rect().center())


@pytest.fixture
def flagging():
    register_detector("test-flagging", Flagging)
    yield
    nsfw.DETECTORS.pop("test-flagging", None)
    nsfw._loaded.detectors.pop("test-flagging", None)


def render(qtbot, window, photo, style: str, flagged: bool = False, lost: bool = False):
    if lost:  # dlib scores the result far below the person (e.g. a model that drew another face)
        window.renderer._likeness_scorer = lambda output, source: LikenessMeasure(0.12, True, True)
    if flagged:
        window.renderer.nsfw_policy = NsfwPolicy(detector="test-flagging")
    drop_file(window.compare, photo)
    window.gallery.select(style)
    render_and_wait(qtbot, window)
    return window


def print_to_pdf(window, tmp_path):
    from PySide6.QtPrintSupport import QPrinter

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "out.pdf"))
    return window.studio.print_result(printer), tmp_path / "out.pdf"


def test_a_failed_quality_check_holds_the_email_until_the_operator_approves(
    qtbot, window, astronaut_path
):
    render(qtbot, window, astronaut_path, "watercolor", lost=True)
    window.actions_by_name["send_email"].trigger()
    hold = window.studio.hold.last_dialog
    assert hold is not None and hold.isVisible()
    assert "waiting for the operator" in window.progress.status.text().lower()
    assert hold.approve_button.isEnabled()
    texts = " ".join(label.text() for label in hold.findChildren(type(hold.forbidden_note)))
    assert "may no longer be recognisable" in texts  # the check's own reason
    assert window.studio.last_dialog is None  # no consent form yet: nothing went out
    click(qtbot, hold.approve_button)
    form = window.studio.last_dialog.form  # approved: the e-mail form opens as usual
    qtbot.keyClicks(form.email, "guest@example.org")
    click(qtbot, form.processing)
    click(qtbot, form.send_button)
    assert len(outbox_items(window, "delivery")) == 1
    window.actions_by_name["send_email"].trigger()  # approved once is approved
    assert window.studio.hold.last_dialog is hold


def test_discard_drops_the_delivery_and_keeps_the_result(qtbot, window, astronaut_path, tmp_path):
    render(qtbot, window, astronaut_path, "watercolor", lost=True)
    printed, pdf = print_to_pdf(window, tmp_path)
    assert printed is False and not pdf.exists()
    click(qtbot, window.studio.hold.last_dialog.discard_button)
    assert not window.studio.hold.last_dialog.isVisible()
    assert window.result_image is not None and len(window.library.entries()) == 1


def test_a_flagged_image_cannot_be_approved_while_the_studio_forbids_it(
    qtbot, window, astronaut_path, tmp_path, flagging
):
    render(qtbot, window, astronaut_path, "watercolor", flagged=True)
    assert window.banner.isVisible()  # the failed checks are in the window's banner
    assert "Sensitive content" in window.banner.text.text()
    window.actions_by_name["send_email"].trigger()
    hold = window.studio.hold.last_dialog
    assert not hold.approve_button.isEnabled() and hold.forbidden_note.isVisible()
    click(qtbot, hold.approve_button)
    assert window.studio.last_dialog is None  # still nothing delivered
    click(qtbot, hold.discard_button)
    printed, pdf = print_to_pdf(window, tmp_path)
    assert printed is False and not pdf.exists()
    assert not window.studio.hold.last_dialog.approve_button.isEnabled()
    # with forbidding off, the operator may approve the (blurred) image
    window.settings.studio_forbid_flagged = False
    window.studio.hold.last_dialog.reject()
    printed, _ = print_to_pdf(window, tmp_path)
    hold = window.studio.hold.last_dialog
    assert hold.approve_button.isEnabled()
    click(qtbot, hold.approve_button)
    assert pdf.exists()


def test_desktop_export_of_a_flagged_image_asks_or_is_refused(
    qtbot, window, astronaut_path, tmp_path, flagging
):
    render(qtbot, window, astronaut_path, "watercolor", flagged=True)
    window.settings.export_dir = str(tmp_path)
    answers: list[str] = []

    def answer(button: QMessageBox.StandardButton) -> None:
        box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox))
        answers.append(box.text())
        click(qtbot, box.button(button))

    QTimer.singleShot(0, lambda: answer(QMessageBox.StandardButton.No))
    assert window.exports.quick_export() is None
    assert "sensitive" in answers[-1] and list(tmp_path.iterdir()) == []
    QTimer.singleShot(0, lambda: answer(QMessageBox.StandardButton.Yes))
    saved = window.exports.quick_export()
    assert saved is not None and saved.exists()
    window.settings.flagged_export = "refuse"
    assert window.exports.quick_export() is None
    assert "sensitive" in window.banner.text.text()
    assert len(list(tmp_path.iterdir())) == 1
