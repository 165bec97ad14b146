"""Issue 11's "Broken today" list, driven the way a user does: real shortcuts with a
widget focused, menu actions, key presses; each would have caught the original bug."""

from __future__ import annotations

import stat

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from photoflux_desktop.engine.verify import verify_image
from photoflux_desktop.ui.widgets.compare_view import CompareMode
from tests.ui.test_export_record import answer_export_dialog


def render_and_wait(qtbot, window):
    with qtbot.waitSignal(window.resultShown, timeout=60000) as blocker:
        window.progress.render_button.click()
    return blocker.args[0]


def focus(qtbot, widget) -> None:
    widget.window().activateWindow()
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(widget.hasFocus, timeout=2000)


def menu_action(window, menu_title: str, text: str):
    menu = next(m for m in window.menuBar().actions() if m.text() == menu_title).menu()
    return next(a for a in menu.actions() if a.text() == text)


# -- 1: Ctrl+E and File ▸ Export… ------------------------------------------------------
def test_ctrl_e_exports_with_the_style_list_focused(qtbot, window, astronaut_path, tmp_path):
    window.open_photo(str(astronaut_path))
    window.gallery.select("pop-art")  # passes every check: no warning in the banner
    render_and_wait(qtbot, window)
    focus(qtbot, window.gallery)
    target = tmp_path / "shortcut.png"
    answer_export_dialog(target, [])
    QTest.keyClick(window.gallery, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(target.is_file, timeout=10000)
    assert verify_image(target).watermark.detected
    assert not window.banner.isVisible()


def test_file_menu_export_writes_the_file(qtbot, window, astronaut_path, tmp_path):
    window.open_photo(str(astronaut_path))
    window.gallery.select("comic")
    render_and_wait(qtbot, window)
    target = tmp_path / "menu.png"
    answer_export_dialog(target, [])
    menu_action(window, "&File", "&Export…").trigger()  # triggered(bool) passes False
    assert target.is_file() and not window.banner.isVisible()


# -- 3: hold Space for the original, whatever has focus ---------------------------------
@pytest.mark.parametrize("which", ["gallery", "compare_button", "render_button", "history"])
def test_space_holds_the_original_whatever_has_focus(qtbot, window, astronaut_path, which):
    window.open_photo(str(astronaut_path))
    window.gallery.select("comic")
    render_and_wait(qtbot, window)
    side_by_side = window.mode_buttons.buttons()[1]
    widget = {
        "gallery": window.gallery,
        "compare_button": side_by_side,
        "render_button": window.progress.render_button,
        "history": window.history,
    }[which]
    focus(qtbot, widget)
    QTest.keyPress(widget, Qt.Key.Key_Space)
    assert window.compare.holding
    QTest.keyRelease(widget, Qt.Key.Key_Space)
    assert not window.compare.holding
    # the focused widget never saw the key: no mode switch, no render started
    assert window.compare.mode is CompareMode.SPLIT and not side_by_side.isChecked()
    assert not window.controller.busy


def test_space_in_the_prompt_types_a_space(qtbot, window, astronaut_path):
    window.open_photo(str(astronaut_path))
    window.params.set_model("sd-turbo")  # a diffusion model takes a prompt
    prompt = window.params.prompt
    focus(qtbot, prompt)
    QTest.keyClicks(prompt, "a b")
    assert prompt.text() == "a b" and not window.compare.holding


# -- 5: a JPEG export's watermark claim is the truth ------------------------------------
@pytest.mark.parametrize("style", ["pencil-sketch", "pop-art"])
def test_jpeg_export_metadata_matches_the_watermark(qtbot, window, astronaut_path, tmp_path, style):
    window.open_photo(str(astronaut_path))
    window.gallery.select(style)
    render_and_wait(qtbot, window)
    target = tmp_path / f"{style}.jpg"
    answer_export_dialog(target, [])
    window.actions_by_name["export"].trigger()
    report = verify_image(target)
    assert report.metadata["invisible_watermark"] is report.watermark.detected
    assert report.watermark.detected  # quality is raised until the mark survives


# -- 7: files other programs can read ---------------------------------------------------
def test_results_and_exports_are_not_private_files(qtbot, window, astronaut_path, tmp_path):
    import os

    old = os.umask(0o022)
    try:
        window.open_photo(str(astronaut_path))
        window.gallery.select("comic")
        render_and_wait(qtbot, window)
        target = tmp_path / "shared.png"
        answer_export_dialog(target, [])
        window.actions_by_name["export"].trigger()
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    stored = window.current_entry.image_path
    assert stat.S_IMODE(stored.stat().st_mode) == 0o644


# -- 6: the time reported is the time waited --------------------------------------------
def test_done_in_reports_the_wait_not_the_engine_span(qtbot, astronaut_path):
    import threading

    from photoflux_desktop.engine.local_renderer import LocalRenderer
    from photoflux_desktop.ui.main_window import MainWindow

    class SlowFirstUse(LocalRenderer):
        """First-use start-up outside the span the engine times, as OpenCV's was."""

        def render(self, *args, **kwargs):
            threading.Event().wait(0.6)
            return super().render(*args, **kwargs)

    window = MainWindow(renderer=SlowFirstUse())
    qtbot.addWidget(window)
    window.open_photo(str(astronaut_path))
    window.gallery.select("comic")
    render_and_wait(qtbot, window)
    shown = float(window.progress.status.text().split("Done in ")[1].split(" s")[0])
    assert shown >= 0.6


def test_the_instant_engine_warms_after_the_window_shows(qtbot, window):
    assert window.preloader is not None
    qtbot.waitUntil(lambda: window.preloader.instant_warm, timeout=30000)


# -- 7: instant looks ignore the seed and the prompt ------------------------------------
def test_instant_renders_keep_the_seed_and_file_one_entry(qtbot, window, astronaut_path):
    window.open_photo(str(astronaut_path))
    window.gallery.select("comic")
    assert window.params.family() == "instant"
    seed = window.params.seed.value()
    first = render_and_wait(qtbot, window)
    second = render_and_wait(qtbot, window)
    assert window.params.seed.value() == seed == first.seed == second.seed
    assert len(window.history.entry_ids()) == 1 and len(window.library.entries()) == 1
    window.gallery.select("pencil-sketch")  # a different look is a new entry
    render_and_wait(qtbot, window)
    assert len(window.history.entry_ids()) == 2


def test_the_prompt_field_says_instant_looks_take_none(qtbot, window, astronaut_path):
    window.open_photo(str(astronaut_path))
    window.gallery.select("comic")
    assert not window.params.prompt.isEnabled()
    assert "no prompt" in window.params.prompt.placeholderText()
    window.params.set_model("sd-turbo")
    assert window.params.prompt.isEnabled()


# -- 7: the Render button stays put; combos show their whole text -----------------------
def test_a_long_status_does_not_move_the_render_button(qtbot, window):
    button = window.progress.render_button
    where = button.mapTo(window, button.rect().topLeft())
    long_status = "Done in 0.4 s with instant:comic · " + "a very long note " * 30
    window.progress.set_status(long_status)
    qtbot.wait(50)  # let the layout settle, as it would on screen
    assert button.mapTo(window, button.rect().topLeft()) == where
    assert window.progress.status_text() == long_status
    assert window.progress.status.toolTip() == long_status
    assert window.progress.status.text().endswith("…")


def test_combo_lists_open_wide_enough_for_their_entries(qtbot, window):
    combo = window.params.model
    combo.showPopup()
    view = combo.view()
    widest = max(
        view.fontMetrics().horizontalAdvance(combo.itemText(i)) for i in range(combo.count())
    )
    assert view.width() >= widest
    combo.hidePopup()
    combo.setCurrentIndex(1)
    assert combo.currentText() in combo.toolTip()


# -- 7: no terminal commands in the window ----------------------------------------------
CLI_WORDS = ("`", " --", "photoflux ", "HF_HUB_OFFLINE")


def test_a_missing_model_is_explained_without_terminal_commands(qtbot, window, astronaut_path):
    window.open_photo(str(astronaut_path))
    window.params.set_model("sd-turbo")
    window.params.prompt.setText("a sailor")
    with qtbot.waitSignal(window.controller.failed, timeout=30000):
        window.actions_by_name["render"].trigger()
    shown = window.banner.text.text()
    assert "model manager" in shown
    assert not any(word in shown for word in CLI_WORDS), shown


def test_an_offline_download_is_explained_without_terminal_commands(qtbot, window):
    window.open_model_manager()
    manager = window._model_manager
    manager.table.selectRow(0)
    manager.download_selected()  # HF_HUB_OFFLINE=1 in tests: refused at once
    qtbot.waitUntil(lambda: manager.banner.isVisibleTo(manager), timeout=10000)
    shown = manager.banner.text.text()
    assert "offline" in shown.lower() and not any(word in shown for word in CLI_WORDS), shown
    manager.close()


def test_the_instant_fallback_note_drops_the_command(qtbot, window, astronaut_path):
    window.open_photo(str(astronaut_path))
    window.gallery.select("comic")
    result = render_and_wait(qtbot, window)
    assert result.notes and "photoflux models" in result.notes[0]  # the CLI's advice
    shown = window.progress.status_text()
    assert "instant version" in shown and not any(word in shown for word in CLI_WORDS)


def test_cli_sentences_are_dropped_for_the_window():
    from photoflux_desktop.engine.errors import Error, ErrorKind, for_gui

    assert for_gui("It was used. Run `photoflux models download x` first.") == "It was used."
    assert for_gui("Lower --max-side. Or pick a smaller size.") == "Or pick a smaller size."
    error = Error(ErrorKind.BAD_INPUT, "m", "Unset HF_HUB_OFFLINE.", gui_hint="Go online.")
    assert error.hint_for_gui() == "Go online." and error.hint == "Unset HF_HUB_OFFLINE."


# -- 7: no stale selection or error banner ----------------------------------------------
def test_the_strip_highlights_the_result_on_screen(qtbot, window, astronaut_path, rocket_path):
    from tests.ui.test_export_record import click_history_item

    window.open_photo(str(astronaut_path))
    window.gallery.select("comic")
    render_and_wait(qtbot, window)
    window.gallery.select("pencil-sketch")
    render_and_wait(qtbot, window)
    click_history_item(qtbot, window, 1)  # the comic one
    window.gallery.select("vintage")
    newest = render_and_wait(qtbot, window)
    assert window.history.selected_ids() == [window.current_entry.id]
    assert window.current_entry.style == newest.parameters.style
    window.open_photo(str(rocket_path))  # a new photo: no result of it is on screen
    assert window.history.selectedItems() == []


def test_an_old_error_goes_when_a_result_is_opened(qtbot, window, astronaut_path):
    from tests.ui.test_export_record import click_history_item

    window.open_photo(str(astronaut_path))
    window.gallery.select("comic")
    render_and_wait(qtbot, window)
    window.params.lora.setText("/no/such/lora.safetensors")
    window.actions_by_name["render"].trigger()
    assert window.banner.isVisible()
    click_history_item(qtbot, window, 0)
    assert not window.banner.isVisible()


# -- 7: quitting is immediate -----------------------------------------------------------
def test_quit_hides_the_window_before_waiting_for_a_render(qtbot, astronaut_path):
    import threading

    from photoflux_desktop.engine.local_renderer import LocalRenderer
    from photoflux_desktop.ui.main_window import MainWindow

    order: list[str] = []
    started = threading.Event()

    class Slow(LocalRenderer):
        def render(self, request, on_progress=None, cancel=None):
            if cancel is None:  # the start-up warm-up
                return super().render(request)
            started.set()
            while not cancel.cancelled:
                threading.Event().wait(0.01)
            order.append("render saw the cancel")
            return super().render(request, on_progress, cancel)

    window = MainWindow(renderer=Slow())
    qtbot.addWidget(window)
    window.show()
    window.open_photo(str(astronaut_path))
    window.gallery.select("comic")
    window.actions_by_name["render"].trigger()
    assert started.wait(10)
    original_hide = window.hide

    def hide():
        order.append("window hidden")
        original_hide()

    window.hide = hide  # closeEvent's own call, recorded
    window.actions_by_name["quit"].trigger()  # Ctrl+Q, File ▸ Quit
    assert order == ["window hidden", "render saw the cancel"]
    assert not window.isVisible() and window.controller.wait(0)  # the render has stopped
