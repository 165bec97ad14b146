"""The library, export and batch controls, driven through real clicks and shortcuts."""

from __future__ import annotations

import shutil

from PIL import Image
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from photoflux_desktop.engine.verify import verify_image
from photoflux_desktop.ui.batch_queue import ItemState
from photoflux_desktop.ui.dialogs.export_dialog import ExportDialog
from photoflux_desktop.ui.widgets.history_strip import style_name


def render(qtbot, window, style: str) -> None:
    window.gallery.select(style)
    with qtbot.waitSignal(window.resultShown, timeout=60000):
        window.progress.render_button.click()


def click_result(qtbot, window, entry_id: str, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    strip = window.history
    rect = strip.visualItemRect(strip.item_for(entry_id))
    qtbot.mouseClick(strip.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def menu_action(window, entry_id: str, text: str):
    menu = window.history.build_menu(entry_id)
    return next(a for a in menu.actions() if a.text().startswith(text))


def aspect(image) -> float:
    return image.width() / image.height()


def two_photos_rendered(qtbot, window, astronaut_path, rocket_path) -> tuple[str, str]:
    window.open_photo(str(astronaut_path))
    render(qtbot, window, "comic")
    window.open_photo(str(rocket_path))
    render(qtbot, window, "pencil-sketch")
    rocket_id, astronaut_id = window.history.entry_ids()
    return astronaut_id, rocket_id


def test_a_result_is_compared_with_its_own_photo_and_exported_under_its_name(
    qtbot, window, astronaut_path, rocket_path, tmp_path
):
    astronaut_id, _ = two_photos_rendered(qtbot, window, astronaut_path, rocket_path)
    assert window.history.group_headers() == ["rocket.jpg", "astronaut.png"]
    click_result(qtbot, window, astronaut_id)  # made from the square photo, rocket is open
    assert window.current_entry.id == astronaut_id
    assert aspect(window.compare.before) == aspect(window.compare.after) == 1.0
    assert window.source_name == "astronaut.png"
    suggested = []

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ExportDialog):
            QTimer.singleShot(20, answer)
            return
        suggested.append(dialog.path.text())
        dialog.reject()

    QTimer.singleShot(0, answer)
    window.actions_by_name["export"].trigger()
    assert suggested and "astronaut-comic" in suggested[0]


def test_with_no_photo_open_the_entry_brings_its_photo_back(
    qtbot, window, astronaut_path, rocket_path
):
    from photoflux_desktop.ui.main_window import MainWindow

    _, rocket_id = two_photos_rendered(qtbot, window, astronaut_path, rocket_path)
    window.close()
    again = MainWindow()
    qtbot.addWidget(again)
    again.show()
    qtbot.waitUntil(lambda: len(again.history.entry_ids()) == 2, timeout=5000)
    assert again.photo is None
    click_result(qtbot, again, rocket_id)
    assert again.compare.before is not None and again.photo is not None
    assert again.compare.before.size() == again.compare.after.size()  # 640×427, not stretched
    assert again.source_name == "rocket.jpg"
    render(qtbot, again, "pop-art")  # a render of the restored photo joins its group
    assert again.history.group_headers() == ["rocket.jpg", "astronaut.png"]


def test_delete_with_undo_by_button_and_by_ctrl_z(qtbot, window, astronaut_path, rocket_path):
    a, b = two_photos_rendered(qtbot, window, astronaut_path, rocket_path)
    files = [window.library.get(i).image_path for i in (a, b)]
    click_result(qtbot, window, a)
    click_result(qtbot, window, b, Qt.KeyboardModifier.ControlModifier)
    assert sorted(window.history.selected_ids()) == sorted([a, b])
    window.library_panel.delete_selected.click()
    assert window.history.entry_ids() == [] and window.library.entries() == []
    assert all(f.is_file() for f in files)  # nothing removed inside the undo window
    assert window.toast.isVisible() and "Deleted 2 results" in window.toast.text.text()
    window.toast.button("Undo").click()
    assert sorted(window.history.entry_ids()) == sorted([a, b])

    click_result(qtbot, window, a)
    qtbot.keyClick(window.history, Qt.Key.Key_Delete)
    assert window.history.entry_ids() == [b]
    window.activateWindow()
    qtbot.keyClick(window.history, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert sorted(window.history.entry_ids()) == sorted([a, b])

    click_result(qtbot, window, a)
    window.library_panel.delete_selected.click()
    window.close()  # the undo window ends at quit: now the files go
    assert not files[0].exists() and files[1].is_file()


def test_favourites_captions_and_use_as_new_photo(qtbot, window, astronaut_path, rocket_path):
    a, b = two_photos_rendered(qtbot, window, astronaut_path, rocket_path)
    name = style_name("comic")
    caption = window.history.item_for(a).text()
    assert caption.startswith(f"{name}\n") and ":" in caption  # the style's name and time
    menu_action(window, a, "Add to favourites").trigger()
    assert window.history.item_for(a).text().startswith(f"★ {name}\n")
    window.library_panel.favourites.click()
    assert window.history.entry_ids() == [a]
    window.library_panel.favourites.click()
    more = menu_action(window, b, "More like this")
    assert not more.isEnabled()  # an instant style ignores the seed: nothing new to get
    menu_action(window, b, "Use as new photo").trigger()
    assert window.source_name == "rocket-pencil-sketch.png" and window.photo is not None


def test_one_click_save_with_a_size_preset_and_the_toast(
    qtbot, window, astronaut_path, tmp_path, monkeypatch
):
    opened = []
    monkeypatch.setattr(
        "photoflux_desktop.ui.export_actions.QDesktopServices.openUrl",
        lambda url: opened.append(url.toLocalFile()),
    )
    window.settings.export_dir = str(tmp_path / "out")
    window.open_photo(str(astronaut_path))
    render(qtbot, window, "comic")
    assert window.export_bar.size.currentData() == "original"
    window.export_bar.save_button.click()  # no dialog: straight to the remembered folder
    target = tmp_path / "out" / "astronaut-comic.png"
    assert target.is_file() and Image.open(target).size == (512, 512)
    assert target.stat().st_mode & 0o777 == 0o644 & ~_umask()
    report = verify_image(target)
    assert report.made_by_photoflux and report.watermark.detected
    assert window.toast.isVisible() and "astronaut-comic.png" in window.toast.text.text()
    window.toast.button("Open folder").click()
    assert opened == [str(tmp_path / "out")]
    window.actions_by_name["save"].trigger()  # Ctrl+S: never overwrites
    assert (tmp_path / "out" / "astronaut-comic-2.png").is_file()


def test_save_as_offers_print_sizes_and_export_selected_saves_each(
    qtbot, window, astronaut_path, rocket_path, tmp_path
):
    a, b = two_photos_rendered(qtbot, window, astronaut_path, rocket_path)
    target = tmp_path / "print.jpg"

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ExportDialog):
            QTimer.singleShot(20, answer)
            return
        dialog.size_preset.setCurrentIndex(dialog.size_preset.findData("social"))
        dialog.path.setText(str(target))
        dialog.accept()

    click_result(qtbot, window, b)
    QTimer.singleShot(0, answer)
    window.export_bar.save_as_button.click()
    assert max(Image.open(target).size) == 1080  # enlarged from 640 px
    assert verify_image(target).watermark.detected  # marked after the resize, read back
    assert window.settings.export_dir == str(tmp_path)  # Save now writes there
    click_result(qtbot, window, a, Qt.KeyboardModifier.ControlModifier)
    window.library_panel.export_selected.click()
    names = sorted(p.name for p in tmp_path.glob("*-*.png"))
    assert names == ["astronaut-comic.png", "rocket-pencil-sketch.png"]


def test_all_styles_fills_a_contact_sheet(qtbot, window, astronaut, tmp_path):
    window.settings.export_dir = str(tmp_path)
    astronaut.resize((96, 96)).save(tmp_path / "astronaut.png")  # small: 13 renders
    window.open_photo(str(tmp_path / "astronaut.png"))
    window.library_panel.all_styles.click()
    sheet = window.batches.sheet
    assert sheet is not None and sheet.isVisible()
    qtbot.waitUntil(lambda: not window.batch.busy, timeout=60000)
    states = {item.state for item in window.batch.items}
    assert states == {ItemState.DONE} and len(sheet.tiles) == len(window.batch.items)
    assert len(window.history.entry_ids()) == len(window.batch.items)
    assert window.history.group_headers() == ["astronaut.png"]
    first = sheet.indexes[0]
    sheet.tiles[first].click()
    assert window.current_entry.id == window.batch.items[first].entry.id
    sheet.save_button.click()
    [saved] = tmp_path.glob("astronaut-all-styles*.jpg")
    assert verify_image(saved).made_by_photoflux


def test_a_folder_batch_reports_a_broken_file_and_cancels(
    qtbot, window, astronaut_path, rocket_path, tmp_path, monkeypatch
):
    folder = tmp_path / "shoot"
    folder.mkdir()
    shutil.copy(astronaut_path, folder / "a.png")
    shutil.copy(rocket_path, folder / "c.jpg")
    (folder / "b.jpg").write_bytes(b"not a photo at all")
    monkeypatch.setattr(
        "photoflux_desktop.ui.batch_actions.QFileDialog.getExistingDirectory",
        lambda *args, **kwargs: str(folder),
    )
    window.gallery.select("pop-art")
    window.library_panel.folder_action.trigger()
    queue_view = window.library_panel.queue
    qtbot.waitUntil(lambda: not window.batch.busy, timeout=60000)
    states = [(item.source_name, item.state) for item in window.batch.items]
    assert states == [
        ("a.png", ItemState.DONE),
        ("b.jpg", ItemState.FAILED),
        ("c.jpg", ItemState.DONE),
    ]
    assert queue_view.isVisible() and "Failed" in queue_view.row_text(1)
    assert "2 of 3" not in queue_view.summary.text() and "1 failed" in queue_view.summary.text()
    assert len(window.library.entries()) == 2 and not window.banner.isVisible()

    window.library_panel.folder_action.trigger()
    queue_view.cancel_all.click()
    qtbot.waitUntil(lambda: not window.batch.busy, timeout=60000)
    later = [item.state for item in window.batch.items[3:]]
    assert later.count(ItemState.CANCELLED) >= 2  # at most the running one finished


def _umask() -> int:
    from photoflux_desktop.engine.library import current_umask

    return current_umask()


class FakeDiffusion:
    """A renderer that answers like a diffusion model (the seed matters) in no time."""

    def render(self, request, on_progress=None, cancel=None):
        from photoflux_desktop.engine.request import RenderParameters, RenderResult, Status

        shade = (request.seed or 0) % 200
        image = Image.new("RGB", request.image.size, (shade, 80, 160))
        params = RenderParameters(
            style=request.style_id, backend="diffusion", model="fake-sd", seed=request.seed
        )
        return RenderResult(Status.COMPLETED, image, params)


def test_more_like_this_renders_the_same_photo_with_a_new_seed(qtbot, astronaut_path, rocket_path):
    from photoflux_desktop.ui.main_window import MainWindow

    window = MainWindow(renderer=FakeDiffusion())
    qtbot.addWidget(window)
    window.show()
    window.open_photo(str(astronaut_path))
    window.params.seed_lock.setChecked(True)
    window.params.seed.setValue(42)
    render(qtbot, window, "oil-painting")
    [first] = window.history.entry_ids()
    window.open_photo(str(rocket_path))  # another photo is open now
    more = menu_action(window, first, "More like this")
    assert more.isEnabled()
    with qtbot.waitSignal(window.resultShown, timeout=60000) as blocker:
        more.trigger()
    again = blocker.args[0]
    assert again.parameters.style == "oil-painting" and again.seed != 42
    assert window.source_name == "astronaut.png"  # rendered from the entry's own photo
    assert window.history.group_headers() == ["astronaut.png"]
    assert len(window.history.entry_ids()) == 2
