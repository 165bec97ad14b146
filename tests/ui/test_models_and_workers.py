"""The window's models folder, model deletion and background work, driven as a user would."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt, QThread
from PySide6.QtWidgets import QDialog, QMessageBox

from photoflux_desktop.engine.catalog import CATALOG
from photoflux_desktop.engine.local_renderer import LocalRenderer
from photoflux_desktop.engine.request import Stage
from photoflux_desktop.ui.dialogs import settings_dialog
from tests.engine.diffusion_fixtures import install_as


@pytest.fixture
def small_photo_path(tmp_path, small_photo) -> Path:
    path = tmp_path / "small.png"
    small_photo.save(path)
    return path


def render_tiny(qtbot, window, photo: Path):
    window.open_photo(str(photo))
    window.params.steps.setValue(2)
    window.params.strength.setValue(1.0)
    window.params.size.setCurrentIndex(0)  # 512 px, the photo is smaller anyway
    with qtbot.waitSignal(window.resultShown, timeout=120000) as blocker:
        window.render()
    return blocker.args[0]


def choose_models_folder(window, monkeypatch, folder: Path) -> None:
    def accept_with_folder(dialog):
        dialog.models_dir.setText(str(folder))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(settings_dialog.SettingsDialog, "exec", accept_with_folder)
    window.open_settings()


def test_models_folder_from_settings_is_used_without_touching_the_environment(
    qtbot, window, monkeypatch, tmp_path, tiny_models, small_photo_path
):
    chosen = tmp_path / "my models"
    install_as(tiny_models["sd"], chosen, "sd-turbo")
    environment = dict(os.environ)
    choose_models_folder(window, monkeypatch, chosen)
    assert dict(os.environ) == environment
    assert window.settings.models_dir == str(chosen)
    # the parameter panel, the renderer and the model manager all look there
    sd_turbo = window.params.model.findData("sd-turbo")
    assert not window.params.model.itemText(sd_turbo).endswith("not installed")
    assert window.params.family() == "sd"
    result = render_tiny(qtbot, window, small_photo_path)
    assert (result.backend, result.model) == ("diffusion", "sd-turbo")
    window.open_model_manager()
    manager = window._model_manager
    assert manager.table.item(0, 3).text() == "models-folder"
    manager.close()
    assert dict(os.environ) == environment


def test_deleting_a_model_in_the_manager_evicts_its_loaded_pipeline(
    qtbot, window, monkeypatch, tiny_models, small_photo_path
):
    models = Path(os.environ["PHOTOFLUX_MODELS_DIR"])
    folder = install_as(tiny_models["sd"], models, "sd-turbo")
    window.params.refresh_models()
    window.params.set_model("sd-turbo")
    render_tiny(qtbot, window, small_photo_path)
    cache = window.renderer.diffusion.cache
    assert len(cache) == 1  # the pipeline stays loaded for the next render
    window.open_model_manager()
    manager = window._model_manager
    manager.table.selectRow(list(CATALOG).index("sd-turbo"))
    asked = []

    def answer_yes(*args):
        asked.append(args)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer_yes)
    qtbot.mouseClick(manager.delete_button, Qt.MouseButton.LeftButton)
    assert asked, "the user is asked before a model is deleted"
    assert len(cache) == 0
    assert not folder.exists()
    assert manager.table.item(0, 2).text() == "not installed"
    manager.close()


def test_forget_model_only_evicts_that_model(tmp_path):
    from photoflux_desktop.engine.diffusion.cache import PipelineCache
    from photoflux_desktop.engine.diffusion.loader import PipelineKey

    def Key(path: str) -> PipelineKey:
        return PipelineKey(path, "sd", "cpu", "torch.float32", "full", "none", (), False)

    renderer = LocalRenderer(models_dir=tmp_path)
    assert renderer.forget_model(tmp_path / "sd-turbo") == 0  # nothing loaded, nothing to do
    renderer.diffusion.cache = cache = PipelineCache(budget_bytes=2**30)
    for name in ("sd-turbo", "other"):
        cache.get(Key(str(tmp_path / name)), lambda: SimpleNamespace(components={}))
    # the same folder spelled differently is still the same model
    assert renderer.forget_model(tmp_path / "." / "sd-turbo") == 1
    assert len(cache) == 1


def test_renders_run_off_the_gui_thread_and_report_on_it(qtbot, qapp, astronaut_path):
    from photoflux_desktop.ui.main_window import MainWindow

    render_threads: list[int] = []

    class RecordingRenderer(LocalRenderer):
        def render(self, *args, **kwargs):
            render_threads.append(threading.get_ident())
            return super().render(*args, **kwargs)

    window = MainWindow(renderer=RecordingRenderer())
    qtbot.addWidget(window)
    window.open_photo(str(astronaut_path))
    window.gallery.select("pencil-sketch")
    on_gui_thread = []
    window.controller.progress.connect(
        lambda event: on_gui_thread.append((event.stage, QThread.currentThread() is qapp.thread()))
    )
    window.resultShown.connect(
        lambda _: on_gui_thread.append(("shown", QThread.currentThread() is qapp.thread()))
    )
    with qtbot.waitSignal(window.resultShown, timeout=60000):
        window.render()
    assert render_threads and render_threads[0] != threading.get_ident()
    assert Stage.DONE in [stage for stage, _ in on_gui_thread]
    assert on_gui_thread[-1][0] == "shown"
    assert all(gui for _, gui in on_gui_thread)
    assert not window.controller.busy and window.controller.wait(0)


def test_the_engine_preloads_once_a_diffusion_model_is_installed(qtbot, tiny_models):
    from photoflux_desktop.ui.main_window import MainWindow

    install_as(tiny_models["sd"], Path(os.environ["PHOTOFLUX_MODELS_DIR"]), "sd-turbo")
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.preloader is not None
    with qtbot.waitSignal(window.preloader.finished, timeout=120000):
        window.show()
    assert window.preloader.done and window.renderer._diffusion is not None
    assert not window.preloader.start()  # once is enough
