"""Features built apart, used together (found in review): each drives the real click,
shortcut or action."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.ui.test_style_grid import click_tile, open_and_wait_for_previews


def test_an_instant_look_applied_clears_a_stale_error(qtbot, window, astronaut_path):
    open_and_wait_for_previews(qtbot, window, astronaut_path)
    window.activateWindow()
    QTest.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # nothing to save
    assert window.banner.isVisible()
    with qtbot.waitSignal(window.resultShown, timeout=60000):
        click_tile(qtbot, window, "pop-art")  # passes every check: no warning either
    assert not window.banner.isVisible()  # the error was about no result; there is one now


class CountingRenderer:
    """The window's renderer, counting how many renders run at once."""

    def __init__(self, inner) -> None:
        import threading

        self.inner, self.lock = inner, threading.Lock()
        self.running = self.most = 0

    def render(self, request, on_progress=None, cancel=None):
        import time

        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.05)  # long enough that an overlap would be seen
            return self.inner.render(request, on_progress, cancel)
        finally:
            with self.lock:
                self.running -= 1

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_an_instant_click_during_a_folder_batch_goes_between_its_items(
    qtbot, window, astronaut_path, rocket_path, tmp_path, monkeypatch
):
    import shutil

    from photoflux_desktop.ui.batch_queue import ItemState

    counting = CountingRenderer(window.renderer)
    window.controller.renderer = window.batch.renderer = counting
    folder = tmp_path / "shoot"
    folder.mkdir()
    for i in range(4):
        shutil.copy(astronaut_path if i % 2 else rocket_path, folder / f"{i}.png")
    monkeypatch.setattr(
        "photoflux_desktop.ui.batch_actions.QFileDialog.getExistingDirectory",
        lambda *args, **kwargs: str(folder),
    )
    open_and_wait_for_previews(qtbot, window, astronaut_path)
    window.gallery.select("pop-art")
    window.library_panel.folder_action.trigger()
    qtbot.waitUntil(lambda: window.batch.rendering, timeout=30000)
    with qtbot.waitSignal(window.resultShown, timeout=60000) as shown:
        click_tile(qtbot, window, "pencil-sketch")
    assert shown.args[0].parameters.style == "pencil-sketch"  # applied, not lost
    qtbot.waitUntil(lambda: not window.batch.busy, timeout=60000)
    assert [item.state for item in window.batch.items] == [ItemState.DONE] * 4
    assert counting.most == 1  # never two jobs on the renderer at once


def test_render_during_a_batch_says_what_to_do_and_promises_nothing(
    qtbot, window, astronaut_path, tmp_path, monkeypatch
):
    import shutil

    folder = tmp_path / "shoot"
    folder.mkdir()
    for i in range(3):
        shutil.copy(astronaut_path, folder / f"{i}.png")
    monkeypatch.setattr(
        "photoflux_desktop.ui.batch_actions.QFileDialog.getExistingDirectory",
        lambda *args, **kwargs: str(folder),
    )
    window.controller.renderer = window.batch.renderer = CountingRenderer(window.renderer)
    window.open_photo(str(astronaut_path))
    window.gallery.select("pop-art")
    window.library_panel.folder_action.trigger()
    qtbot.waitUntil(lambda: window.batch.rendering, timeout=30000)
    window.activateWindow()
    QTest.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    status = window.progress.status.text()
    assert "batch" in status and "starts after" not in status
    assert not window.controller.busy
    qtbot.waitUntil(lambda: not window.batch.busy, timeout=60000)


def test_deleting_the_result_on_screen_clears_its_caption(qtbot, window, astronaut_path):
    open_and_wait_for_previews(qtbot, window, astronaut_path)
    with qtbot.waitSignal(window.resultShown, timeout=60000):
        click_tile(qtbot, window, "pencil-sketch")
    (entry_id,) = window.history.entry_ids()
    rect = window.history.visualItemRect(window.history.item_for(entry_id))
    QTest.mouseClick(window.history.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert "Pencil sketch" in window.progress.status.text()
    QTest.keyClick(window.history, Qt.Key.Key_Delete)
    assert window.compare.after is None
    assert "Pencil sketch" not in window.progress.status.text()


def test_space_held_right_after_start_compares_instead_of_typing_in_search(
    qtbot, window, astronaut_path
):
    window.open_photo(str(astronaut_path))
    with qtbot.waitSignal(window.resultShown, timeout=60000):
        window.progress.render_button.click()
    window.activateWindow()
    focused = QApplication.focusWidget()
    assert focused is not window.gallery.search
    qtbot.keyPress(focused, Qt.Key.Key_Space)
    assert window.compare.holding
    qtbot.keyRelease(focused, Qt.Key.Key_Space)
    assert not window.compare.holding and window.gallery.search.text() == ""
