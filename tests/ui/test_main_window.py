"""The real desktop window, driven offscreen with pytest-qt."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication, QImage

from photoflux_desktop.engine.errors import ErrorKind
from photoflux_desktop.engine.request import Stage
from photoflux_desktop.engine.verify import verify_image
from photoflux_desktop.ui.widgets.compare_view import CompareMode
from tests.engine.diffusion_fixtures import install_as


def drop_file(widget, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    widget.dropEvent(event)


def render_and_wait(qtbot, window, timeout=60000):
    with qtbot.waitSignal(window.resultShown, timeout=timeout) as blocker:
        window.render()
    return blocker.args[0]


def test_drop_a_photo_then_render_an_instant_style(qtbot, window, astronaut_path):
    drop_file(window.compare, astronaut_path)
    assert window.photo is not None and window.compare.before is not None
    assert "astronaut.png" in window.progress.status.text()
    window.gallery.select("pencil-sketch")
    assert window.params.preset.id == "pencil-sketch"
    result = render_and_wait(qtbot, window)
    assert result.backend == "instant" and result.parameters.style == "pencil-sketch"
    assert window.compare.after is not None
    assert len(window.history.entry_ids()) == 1
    assert not window.controller.busy and window.progress.render_button.isEnabled()


def test_broken_file_shows_the_error_banner_not_a_traceback(window, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"this is not a jpeg at all")
    assert not window.open_photo(str(broken))
    assert window.banner.isVisible()
    assert window.banner.error.kind is ErrorKind.BAD_INPUT
    assert "text file" in window.banner.text.text()
    assert window.photo is None


def test_render_without_a_photo_explains(window):
    window.render()
    assert window.banner.isVisible() and "Open a photo first" in window.banner.text.text()


@pytest.fixture
def small_photo_path(tmp_path, small_photo) -> Path:
    path = tmp_path / "small.png"
    small_photo.save(path)
    return path


def test_diffusion_render_streams_previews_into_the_compare_view(
    qtbot, window, small_photo_path, tiny_models
):
    window.open_photo(str(small_photo_path))
    window.params.set_model(str(tiny_models["sd"]))
    window.params.steps.setValue(4)
    window.params.strength.setValue(1.0)
    window.params.size.setCurrentIndex(0)  # 512 px
    previews = []
    window.controller.progress.connect(
        lambda e: previews.append(e) if e.stage is Stage.DENOISING else None
    )
    result = render_and_wait(qtbot, window)
    assert result.backend == "diffusion"
    assert [e.step for e in previews] == [1, 2, 3, 4]
    assert all(e.preview is not None for e in previews)
    assert window.progress.bar.value() == window.progress.bar.maximum()


def test_cancel_mid_render(qtbot, window, small_photo_path, tiny_models):
    window.open_photo(str(small_photo_path))
    window.params.set_model(str(tiny_models["sd"]))
    window.params.steps.setValue(50)
    window.params.strength.setValue(1.0)

    def cancel_on_second_step(event):
        if event.stage is Stage.DENOISING and event.step == 2:
            window.cancel_render()

    window.controller.progress.connect(cancel_on_second_step)
    with qtbot.waitSignal(window.controller.cancelled, timeout=60000):
        window.render()
    assert len(window.history.entry_ids()) == 0
    assert "Cancelled" in window.progress.status.text()
    assert window.progress.render_button.isEnabled()


def test_cancel_before_the_render_starts_loads_nothing(
    qtbot, window, small_photo_path, tiny_models, monkeypatch
):
    def never(*args, **kwargs):
        pytest.fail("a cancelled render loaded a model")

    monkeypatch.setattr("photoflux_desktop.engine.diffusion.renderer.load_pipeline", never)
    window.open_photo(str(small_photo_path))
    window.params.set_model(str(tiny_models["sd"]))
    failed = []
    window.controller.failed.connect(failed.append)
    # `started` is emitted before the worker thread starts: the token is set first
    window.controller.started.connect(window.cancel_render)
    with qtbot.waitSignal(window.controller.cancelled, timeout=60000):
        window.render()
    assert failed == [] and len(window.history.entry_ids()) == 0
    assert "Cancelled" in window.progress.status.text()


def test_an_invalid_setting_is_shown_not_raised(window, astronaut_path):
    window.open_photo(str(astronaut_path))
    window.params.lora.setText("/no/such/lora.safetensors")
    window.render()
    assert window.banner.isVisible() and not window.controller.busy
    assert window.banner.error.kind is ErrorKind.BAD_INPUT
    assert "does not exist" in window.banner.text.text()


def test_missing_model_offers_the_model_manager(qtbot, window, astronaut_path):
    window.open_photo(str(astronaut_path))
    window.params.set_model("sd-turbo")  # in the catalog, not installed
    with qtbot.waitSignal(window.controller.failed, timeout=30000):
        window.render()
    assert window.banner.error.kind is ErrorKind.MODEL_MISSING
    assert window.banner.action.isVisibleTo(window.banner)
    window.banner.action.click()
    assert window._model_manager is not None and window._model_manager.isVisible()
    window._model_manager.close()


def test_drag_the_compare_slider_and_switch_modes(qtbot, window, astronaut_path):
    window.open_photo(str(astronaut_path))
    render_and_wait(qtbot, window)
    view = window.compare
    target = view.image_rect(view._panes()[0])
    y = int(target.center().y())
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(int(view.split_x()), y))
    qtbot.mouseMove(view, QPoint(int(target.left() + target.width() * 0.2), y))
    qtbot.mouseRelease(
        view, Qt.MouseButton.LeftButton, pos=QPoint(int(target.left() + target.width() * 0.2), y)
    )
    assert view.split == pytest.approx(0.2, abs=0.02)
    window.set_compare_mode("side")
    assert view.mode is CompareMode.SIDE_BY_SIDE and len(view._panes()) == 2
    qtbot.keyPress(window, Qt.Key.Key_Space)
    assert view.holding
    qtbot.keyRelease(window, Qt.Key.Key_Space)
    assert not view.holding


def test_zoom_is_shared_by_before_and_after(qtbot, window, astronaut_path):
    window.open_photo(str(astronaut_path))
    render_and_wait(qtbot, window)
    window.set_compare_mode("side")
    view = window.compare
    view.zoom_by(2.0)
    left, right = (view.image_rect(pane) for pane in view._panes())
    assert left.size() == right.size() and view.zoom == 2.0


def test_export_writes_a_verified_file(qtbot, window, astronaut_path, tmp_path):
    window.open_photo(str(astronaut_path))
    render_and_wait(qtbot, window)
    written = window.export_result(target=tmp_path / "export.jpg")
    assert written == tmp_path / "export.jpg"
    report = verify_image(written)
    assert report.made_by_photoflux and report.metadata["style"] == "watercolor"


def test_copy_and_paste_through_the_clipboard(qtbot, window, astronaut_path):
    window.open_photo(str(astronaut_path))
    render_and_wait(qtbot, window)
    window.copy_result()
    assert not QGuiApplication.clipboard().image().isNull()
    window.photo = None
    window.paste_photo()
    assert window.photo is not None and window.source_name == "pasted image"


def test_results_survive_a_restart_and_reopen(qtbot, window, astronaut_path):
    from photoflux_desktop.ui.main_window import MainWindow

    window.open_photo(str(astronaut_path))
    window.gallery.select("comic")
    window.params.seed_lock.setChecked(True)
    window.params.seed.setValue(1234)
    render_and_wait(qtbot, window)
    window.close()
    again = MainWindow()
    qtbot.addWidget(again)
    again.show()
    qtbot.waitUntil(lambda: len(again.history.entry_ids()) == 1, timeout=5000)
    entry_id = again.history.entry_ids()[0]
    again.reopen_settings(entry_id)
    assert again.gallery.current_style() == "comic"
    assert again.params.seed.value() == 1234
    again.show_entry(entry_id)
    assert again.result_image is not None
    again.delete_entry(entry_id)
    assert len(again.history.entry_ids()) == 0 and again.library.entries() == []


def test_gui_command_opens_the_window_with_the_photo(qtbot, astronaut_path, monkeypatch):
    from photoflux_desktop.cli import main
    from photoflux_desktop.ui import app as app_module

    shown = {}

    def fake_exec(self=None):
        window = next(
            w
            for w in app_module.QApplication.topLevelWidgets()
            if w.objectName() == "" and hasattr(w, "open_photo") and w.isVisible()
        )
        qtbot.waitUntil(lambda: window.photo is not None, timeout=5000)
        shown["window"] = window
        window.close()
        return 0

    monkeypatch.setattr(app_module.QApplication, "exec", fake_exec)
    assert main(["gui", str(astronaut_path)]) == 0
    assert shown["window"].source_name == "astronaut.png"


def test_settings_theme_and_damaged_settings_file(qtbot, qapp):
    from photoflux_desktop.engine.settings import load_settings, settings_path
    from photoflux_desktop.ui.main_window import MainWindow

    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{ definitely not json")
    win = MainWindow()
    qtbot.addWidget(win)
    assert win.banner.isVisibleTo(win) and "damaged" in win.banner.text.text()
    before = qapp.property("photofluxTheme")
    win.toggle_theme()
    assert qapp.property("photofluxTheme") != before
    assert load_settings()[0].theme == qapp.property("photofluxTheme")


def test_model_manager_lists_and_deletes_installed_models(qtbot, window, tiny_models):
    install_as(tiny_models["sd"], Path(os.environ["PHOTOFLUX_MODELS_DIR"]), "sd-turbo")
    window.open_model_manager()
    manager = window._model_manager
    assert manager.table.rowCount() == 4
    assert manager.table.item(0, 2).text() != "not installed"
    manager.remove("sd-turbo")
    assert manager.table.item(0, 2).text() == "not installed"
    assert window.params.model.itemText(2).endswith("not installed")
    manager.close()


def test_dropping_pixels_without_a_file(window, astronaut):
    from photoflux_desktop.ui.images import pil_to_qimage

    image: QImage = pil_to_qimage(astronaut)
    assert window.open_qimage(image)
    assert window.photo.size == astronaut.size


def test_settings_dialog_saves_choices(qtbot, window, monkeypatch):
    from PySide6.QtWidgets import QDialog

    from photoflux_desktop.engine.settings import load_settings
    from photoflux_desktop.ui.dialogs import settings_dialog

    def accept_with_changes(self):
        self.theme.setCurrentIndex(self.theme.findData("light"))
        self.quantize.setCurrentIndex(self.quantize.findData("int8"))
        self.cloud_url.setText("https://studio.example.com")
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(settings_dialog.SettingsDialog, "exec", accept_with_changes)
    window.open_settings()
    saved = load_settings()[0]
    assert (saved.theme, saved.quantize, saved.cloud_url) == (
        "light",
        "int8",
        "https://studio.example.com",
    )
    request_quantize = window.settings.quantize
    assert request_quantize == "int8"


def test_model_download_failure_shows_in_the_manager(qtbot, window):
    window.open_model_manager()
    manager = window._model_manager
    manager.table.selectRow(0)
    with qtbot.waitSignal(manager.banner.action.clicked, timeout=100, raising=False):
        pass
    manager.download_selected()  # HF_HUB_OFFLINE=1 in tests: refused at once
    qtbot.waitUntil(lambda: manager.banner.isVisibleTo(manager), timeout=10000)
    assert manager.banner.error.kind is ErrorKind.CLOUD
    assert "Offline mode" in manager.banner.error.message
    assert manager.download_button.isEnabled()
    manager.close()
