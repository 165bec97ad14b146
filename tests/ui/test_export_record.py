"""Export stamps the record of the result on screen, and marks the image exactly once."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from photoflux_desktop.engine.verify import verify_image
from photoflux_desktop.engine.watermark import detect_invisible, embed_invisible
from photoflux_desktop.ui.dialogs.export_dialog import ExportDialog


def render_and_wait(qtbot, window):
    with qtbot.waitSignal(window.resultShown, timeout=60000) as blocker:
        window.render()
    return blocker.args[0]


def answer_export_dialog(target, seen: list) -> None:
    """Fills in the modal export dialog once it is open, as a user would, and saves."""

    def fill() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ExportDialog):
            QTimer.singleShot(20, fill)
            return
        seen.append(dialog.options())
        dialog.path.setText(str(target))
        dialog.accept()  # Save, minus the native file chooser

    QTimer.singleShot(0, fill)


def click_history_item(qtbot, window, row: int) -> None:
    strip = window.history  # row: the n-th result, group header tiles not counted
    rect = strip.visualItemRect(strip.item_for(strip.entry_ids()[row]))
    qtbot.mouseClick(strip.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_exporting_a_gallery_item_carries_its_own_record(qtbot, window, astronaut_path, tmp_path):
    window.open_photo(str(astronaut_path))
    window.params.seed_lock.setChecked(True)
    for style, seed in (("comic", 111), ("pencil-sketch", 222)):
        window.gallery.select(style)
        window.params.seed.setValue(seed)
        result = render_and_wait(qtbot, window)
        assert result.backend == "instant" and result.seed == seed
    assert len(window.history.entry_ids()) == 2  # newest first: A is the second item

    click_history_item(qtbot, window, 1)
    entry_a = window.current_entry
    assert entry_a.style == "comic"
    target = tmp_path / "a.png"
    seen: list = []
    answer_export_dialog(target, seen)
    window.actions_by_name["export"].trigger()  # what File ▸ Export and Ctrl+E do

    assert seen and seen[0].invisible_watermark and target.is_file()
    report = verify_image(target)
    assert report.watermark.detected
    assert report.metadata["style"] == "comic" and report.metadata["seed"] == 111
    assert report.metadata["invisible_watermark"] is True
    # exactly once: the stored master is unmarked and the export is that master marked once
    with Image.open(entry_a.image_path) as stored:
        master = stored.convert("RGB")
    assert not detect_invisible(master).detected
    once, _ = embed_invisible(master)
    with Image.open(target) as exported:
        assert np.array_equal(np.asarray(exported.convert("RGB")), np.asarray(once))


def test_export_after_a_fresh_render_stamps_that_render(qtbot, window, astronaut_path, tmp_path):
    window.open_photo(str(astronaut_path))
    window.gallery.select("comic")
    render_and_wait(qtbot, window)
    click_history_item(qtbot, window, 0)
    window.gallery.select("pencil-sketch")
    latest = render_and_wait(qtbot, window)
    target = tmp_path / "b.jpg"
    answer_export_dialog(target, [])
    window.actions_by_name["export"].trigger()
    report = verify_image(target)
    assert report.watermark.detected
    assert report.metadata["style"] == "pencil-sketch" and report.metadata["seed"] == latest.seed
