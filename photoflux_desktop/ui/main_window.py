"""The main window: layout and wiring only; work happens in the engine and the controller."""

from __future__ import annotations

import io
import secrets
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QDesktopServices, QGuiApplication, QImage
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

PHOTO_FILTER = "Photos (*.jpg *.jpeg *.png *.tif *.tiff *.webp *.gif *.bmp);;All files (*)"


_parts_loaded = False


def _load_parts() -> None:
    """Imports the window's parts (engine, widgets, PIL, numpy behind them: ~0.6 s) into
    this module. Deferred so that `MainWindow(deferred=True)` can paint its frame first and
    assemble the rest right after (bench/ui_startup.py); idempotent."""
    global Error, ErrorKind, PhotoFluxError, for_gui, Photo, load_photo, Library  # noqa: PLW0603
    global LibraryEntry, LocalRenderer, first_installed, bundled_presets, build_record  # noqa: PLW0603
    global result_record, LoraSpec, ProgressEvent, Renderer, RenderRequest, RenderResult  # noqa: PLW0603
    global load_settings, save_settings, build_menus, BatchActions, BatchQueue, DeleteUndo  # noqa: PLW0603
    global ModelManager, SettingsDialog, ExportActions, FirstRunPanel, HoldToCompare  # noqa: PLW0603
    global pil_to_qimage, qimage_to_pil, InstantLooks, LibraryController, EnginePreloader  # noqa: PLW0603
    global RenderController, StudioMode, apply_theme, CompareMode, CompareView, ErrorBanner  # noqa: PLW0603
    global ExportBar, HistoryStrip, LibraryPanel, ParameterPanel, ProgressPanel, QueueView  # noqa: PLW0603
    global StyleGallery, Toast, Image, fit_to_text, GenerateMode, _parts_loaded  # noqa: PLW0603
    if _parts_loaded:
        return
    from PIL import Image

    from photoflux_desktop.engine.errors import Error, ErrorKind, PhotoFluxError, for_gui
    from photoflux_desktop.engine.intake import Photo, load_photo
    from photoflux_desktop.engine.library import Library, LibraryEntry
    from photoflux_desktop.engine.local_renderer import LocalRenderer
    from photoflux_desktop.engine.model_store import first_installed
    from photoflux_desktop.engine.presets import bundled_presets
    from photoflux_desktop.engine.provenance import build_record, result_record
    from photoflux_desktop.engine.request import (
        LoraSpec,
        ProgressEvent,
        Renderer,
        RenderRequest,
        RenderResult,
    )
    from photoflux_desktop.engine.settings import load_settings, save_settings
    from photoflux_desktop.ui.actions import build_menus
    from photoflux_desktop.ui.batch_actions import BatchActions
    from photoflux_desktop.ui.batch_queue import BatchQueue
    from photoflux_desktop.ui.delete_undo import DeleteUndo
    from photoflux_desktop.ui.dialogs.model_manager import ModelManager
    from photoflux_desktop.ui.dialogs.settings_dialog import SettingsDialog
    from photoflux_desktop.ui.export_actions import ExportActions
    from photoflux_desktop.ui.first_run import FirstRunPanel
    from photoflux_desktop.ui.generate_mode import GenerateMode
    from photoflux_desktop.ui.hold_to_compare import HoldToCompare
    from photoflux_desktop.ui.images import pil_to_qimage, qimage_to_pil
    from photoflux_desktop.ui.instant_looks import InstantLooks
    from photoflux_desktop.ui.library_controller import LibraryController
    from photoflux_desktop.ui.preload import EnginePreloader
    from photoflux_desktop.ui.render_controller import RenderController
    from photoflux_desktop.ui.studio.studio_mode import StudioMode
    from photoflux_desktop.ui.theme import apply_theme
    from photoflux_desktop.ui.widgets.compare_view import CompareMode, CompareView
    from photoflux_desktop.ui.widgets.error_banner import ErrorBanner
    from photoflux_desktop.ui.widgets.export_bar import ExportBar
    from photoflux_desktop.ui.widgets.fit import fit_to_text
    from photoflux_desktop.ui.widgets.history_strip import HistoryStrip
    from photoflux_desktop.ui.widgets.library_panel import LibraryPanel
    from photoflux_desktop.ui.widgets.parameter_panel import ParameterPanel
    from photoflux_desktop.ui.widgets.progress_panel import ProgressPanel
    from photoflux_desktop.ui.widgets.queue_view import QueueView
    from photoflux_desktop.ui.widgets.style_gallery import StyleGallery
    from photoflux_desktop.ui.widgets.toast import Toast

    _parts_loaded = True


class MainWindow(QMainWindow):
    firstShown = Signal()  # the window is on screen (assembled or not)
    ready = Signal()  # assembled: every part is there
    resultShown = Signal(object)  # RenderResult
    photoLoaded = Signal()
    exported = Signal(str)  # the file format

    def __init__(
        self,
        renderer: Renderer | None = None,
        library: Library | None = None,
        *,
        deferred: bool = False,
    ) -> None:
        """`deferred`: paint the bare frame first and assemble everything else right after
        (the app's start-up); otherwise the window is complete when this returns."""
        super().__init__()
        self.setWindowTitle("PhotoFlux")
        self.setMinimumSize(800, 600)
        self._shown = False
        self._late_done = False
        self.assembled = False
        self.photo: Photo | None = None
        self.result: RenderResult | None = None
        self.result_image: Image.Image | None = None
        self.current_entry: LibraryEntry | None = None
        self.source_name = "photo"
        if deferred:
            self._restore_geometry()
            self._pending = (renderer, library)
            opening = QLabel("Opening PhotoFlux…")
            opening.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.setCentralWidget(opening)  # replaced by the real layout as it assembles
            return
        self._assemble(renderer, library)

    def _assemble(self, renderer: Renderer | None, library: Library | None) -> None:
        _load_parts()
        self.settings, settings_note = load_settings()
        self.library = library or Library()
        renderer = renderer or LocalRenderer(self._models_dir())
        self.renderer = renderer
        self.controller = RenderController(renderer, self.library)
        self.preloader = EnginePreloader(renderer) if isinstance(renderer, LocalRenderer) else None
        self._model_manager: ModelManager | None = None
        self._build()
        self.generate = GenerateMode(self)  # Photo | Generate, and the adapter picker
        self.adapters = self.generate.picker  # choose_adapter(name), refresh_adapters()
        self.actions_by_name = build_menus(self)
        self._connect()
        if not self._shown:
            self._restore_geometry()
        if settings_note:
            self.banner.show_error(Error(ErrorKind.BAD_INPUT, settings_note))
        QTimer.singleShot(0, self._late_init_if_hidden)
        self.assembled = True
        QTimer.singleShot(0, self.ready.emit)

    # -- layout ------------------------------------------------------------------
    def _build(self) -> None:
        self.gallery = StyleGallery(bundled_presets())
        self.looks = InstantLooks(
            self.gallery, self.controller, bundled_presets(), lambda: self.params.values().max_side
        )
        self.banner = ErrorBanner()
        self.compare = CompareView()
        self.history = HistoryStrip()
        self.params = ParameterPanel()
        self.progress = ProgressPanel()
        self.first_run = FirstRunPanel(self)
        self.lib = LibraryController(self)
        self.exports = ExportActions(self)
        self.batches = BatchActions(self)
        self.deletes = DeleteUndo(self.library, self)
        self.batch = BatchQueue(self.renderer, self.library, self.controller)
        # one job on the renderer: an instant-look click goes between two batch items
        self.looks.blocked = lambda: self.batch.rendering
        self.batch.yield_to = self.looks.wants_turn
        self.batch.itemChanged.connect(self.looks.resume)
        self.looks.settled.connect(self.batch.resume)
        self.history.source_thumb = self.library.source_thumb
        self.library_panel = LibraryPanel(self.history, QueueView(self.batch))
        self.export_bar = ExportBar()
        self.export_bar.set_size(self.settings.export_size)
        self.export_bar.set_folder(self.exports.export_folder())
        center = QWidget()
        column = QVBoxLayout(center)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.first_run)
        column.addWidget(self.banner)
        column.addLayout(self._compare_toolbar())
        column.addWidget(self.compare, 1)
        column.addWidget(self.library_panel)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.params)
        side_layout.addWidget(scroll, 1)
        side_layout.addWidget(self.progress)
        side_layout.addWidget(self.export_bar)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        for widget, stretch in ((self.gallery, 1), (center, 3), (side, 0)):
            splitter.addWidget(widget)
            splitter.setStretchFactor(splitter.count() - 1, stretch)
        side.setMinimumWidth(240)  # with the gallery and the centre, fits an 800 px window
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([340, 600, 340])
        self.setCentralWidget(splitter)
        self.toast = Toast(self)
        self.studio = StudioMode(self)  # e-mail / QR / print, studio sync, usage events
        from photoflux_desktop.ui.cloud_render import CloudRenderOption

        self.cloud = CloudRenderOption(self)  # "Render in the cloud" next to Render

    def _compare_toolbar(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.mode_buttons = QButtonGroup(self)
        for mode, label in (
            (CompareMode.SPLIT, "Split"),
            (CompareMode.SIDE_BY_SIDE, "Side by side"),
            (CompareMode.AFTER, "Result"),
        ):
            button = QPushButton(label)
            button.setCheckable(True)
            button.setChecked(mode is CompareMode.SPLIT)
            button.clicked.connect(lambda _=False, m=mode: self.set_compare_mode(m))
            self.mode_buttons.addButton(button)
            row.addWidget(button)
        self.hold_button = QPushButton("Hold")
        self.hold_button.setToolTip(
            "Hold to compare: press and hold (or hold Space) to see the original"
        )
        self.hold_button.pressed.connect(lambda: self.compare.set_holding(True))
        self.hold_button.released.connect(lambda: self.compare.set_holding(False))
        self.hold_key = HoldToCompare(self, self.compare.set_holding)
        row.addWidget(self.hold_button)
        fit_to_text(*self.mode_buttons.buttons(), self.hold_button)
        row.addStretch(1)
        return row

    def _connect(self) -> None:
        self.gallery.styleChosen.connect(self._style_chosen)
        self.looks.status.connect(self.progress.set_status)
        self.looks.failed.connect(self.show_error)
        self.compare.photoDropped.connect(self.open_photo)
        self.compare.imageDropped.connect(self.open_qimage)
        self.progress.renderRequested.connect(self.render)
        self.progress.cancelRequested.connect(self.cancel_render)
        self.params.manageModelsRequested.connect(self.open_model_manager)
        self.params.changed.connect(self._maybe_preload)
        self.params.set_memory(self.settings.memory)
        self.params.memoryChanged.connect(lambda plan: setattr(self.settings, "memory", plan))
        c = self.controller
        c.started.connect(lambda: self.progress.set_busy(True))
        c.started.connect(self.banner.hide)  # Render or an instant look: older errors are stale
        c.idle.connect(lambda: self.progress.set_busy(False))
        c.progress.connect(self._on_progress)
        c.status.connect(self.progress.set_status)
        c.finished.connect(self._on_finished)
        c.failed.connect(self._on_failed)
        c.cancelled.connect(self._on_cancelled)
        h = self.history
        h.opened.connect(self.show_entry)
        h.reopenSettings.connect(self.reopen_settings)
        h.deleteRequested.connect(self.delete_entry)
        h.revealRequested.connect(self.reveal_entry)
        h.exportRequested.connect(self.exports.export_entries)
        h.favouriteRequested.connect(self.lib.set_favourite)
        h.useAsPhotoRequested.connect(self.lib.use_as_photo)
        h.moreLikeThisRequested.connect(self.lib.more_like_this)
        self.library_panel.allStylesRequested.connect(self.batches.all_styles)
        self.library_panel.folderRequested.connect(self.batches.style_folder)
        self.batch.entryAdded.connect(self.history.add_entry)
        self.export_bar.saveRequested.connect(self.exports.quick_export)
        self.export_bar.saveAsRequested.connect(self.export_result)
        self.export_bar.sizeChanged.connect(
            lambda size: setattr(self.settings, "export_size", size)
        )
        self.resultShown.connect(lambda _result: self.export_bar.set_has_result(True))
        self.resultShown.connect(self.params.likeness_control.show_result)
        from photoflux_desktop.ui.check_warning import warn_failed_checks  # after the parts

        self.resultShown.connect(lambda result: warn_failed_checks(self, result))

    def _late_init_if_hidden(self) -> None:
        if not self._shown:  # a shown window runs it from showEvent, after its first paint
            self._late_init()

    def _late_init(self) -> None:
        """Work that may touch the disk or the HF cache, after the window is up."""
        if self._late_done:
            return
        self._late_done = True
        self._refresh_models()
        self.first_run.update_cards(self.params.has_diffusion_model())
        self.gallery.select("watercolor")
        self.history.set_entries(self.library.entries())
        vocabulary = sorted(
            {
                word.strip(" ,")
                for preset in bundled_presets().values()
                for word in preset.prompt.replace("{subject}", "").split(",")
                if word.strip(" ,")
            }
        )
        self.adapters.refresh_adapters()  # their tokens join the completions
        self.adapters.feed_completions(self.params, self.library.prompts() + vocabulary)
        if self.preloader is not None:
            self.preloader.warm_instant()  # the first render is then as quick as the next
        self._maybe_preload()

    def _maybe_preload(self) -> None:
        """Warm torch/diffusers in the background once a diffusion model is in play."""
        if self.preloader is not None and self.params.family() != "instant":
            self.preloader.start()

    # -- photos ------------------------------------------------------------------
    def choose_photo(self) -> None:
        start = self.settings.last_open_dir or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open a photo", start, PHOTO_FILTER)
        if path:
            self.open_photo(path)

    def open_photo(self, source: str | bytes, name: str | None = None) -> bool:
        try:
            photo = load_photo(source, max_side=2048)
        except PhotoFluxError as exc:
            self.show_error(exc.error)
            return False
        self.photo = photo
        self.source_name = name or (Path(source).name if isinstance(source, str) else "pasted")
        if isinstance(source, str):
            self.settings.last_open_dir = str(Path(source).resolve().parent)
        self.result, self.result_image, self.current_entry = None, None, None
        self.banner.hide()
        self._select_in_history(None)
        self.compare.set_before(pil_to_qimage(photo.image))
        self.compare.set_after(None)
        self.looks.photo_opened(photo.image, self.source_name)
        self.progress.set_status(
            f"{self.source_name}: {photo.original_size[0]}×{photo.original_size[1]} "
            f"{photo.format} · click an Instant look, or pick an AI style and press Render"
        )
        self.photoLoaded.emit()
        return True

    def open_qimage(self, image: QImage) -> bool:
        buffer = io.BytesIO()
        qimage_to_pil(image).save(buffer, "PNG")
        return self.open_photo(buffer.getvalue(), name="pasted image")

    def paste_photo(self) -> None:
        clipboard = QGuiApplication.clipboard()
        mime = clipboard.mimeData()
        local = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
        if local:
            self.open_photo(local[0])
        elif mime.hasImage() and not clipboard.image().isNull():
            self.open_qimage(clipboard.image())
        else:
            self.show_error(
                Error(
                    ErrorKind.BAD_INPUT,
                    "The clipboard holds no image.",
                    "Copy a photo or an image file first.",
                )
            )

    # -- rendering ---------------------------------------------------------------
    def _style_chosen(self, style_id: str) -> None:
        self.params.set_preset(bundled_presets()[style_id])

    def build_request(self) -> RenderRequest | None:
        if self.generate.active:  # text-to-image: no photo
            return self.generate.build_request()
        style_id = self.gallery.current_style()
        if self.photo is None or style_id is None:
            self.show_error(
                Error(
                    ErrorKind.BAD_INPUT,
                    "Open a photo first.",
                    "Drop one on the window, or press Ctrl+O.",
                )
            )
            return None
        if not self.params.values().seed_locked and self.params.family() != "instant":
            self.params.seed.setValue(secrets.randbelow(2**31))  # instant looks ignore it
        # the request checks every value; a bad one is shown, not raised
        request = self.batches.base_request(self.photo.image)
        return (
            None
            if request is None
            else self.generate.with_adapters(replace(request, previews=True))
        )

    def render(self) -> None:
        if self.controller.busy:
            return
        if self.batch.rendering:  # one job on the renderer at a time
            self.progress.set_status(  # nothing queues it: say so rather than promise
                "A batch is rendering: press Render when it is done, or cancel the batch"
            )
            return
        request = self.build_request()
        if request is None:
            return
        if request.image is not None and request.max_side < max(request.image.size):
            scaled = request.image.copy()
            scaled.thumbnail((request.max_side, request.max_side), Image.Resampling.LANCZOS)
            request = replace(request, image=scaled)
        self.banner.hide()
        source = self.photo.image if self.photo is not None else None
        self.controller.start(request, self.source_name, source=source)

    def cancel_render(self) -> None:
        self.controller.cancel()

    def _on_progress(self, event: ProgressEvent) -> None:
        self.progress.show_progress(event)
        if event.preview is not None:
            self.compare.set_after(pil_to_qimage(event.preview))

    def _on_finished(self, result: RenderResult, entry: LibraryEntry | None) -> None:
        self.result, self.result_image = result, result.image
        self.compare.set_after(pil_to_qimage(result.image))
        self.current_entry = entry  # what export stamps: this result's own record
        if entry is not None and entry.id not in self.history.entry_ids():
            self.history.add_entry(entry)  # an identical instant result is filed once
        self._select_in_history(entry.id if entry is not None else None)
        seconds = self.controller.last_waited_s  # what the user waited, not the engine's span
        note = for_gui(result.notes[0]) if result.notes else ""  # no terminal advice here
        note = f" · {note}" if note else ""
        self.progress.set_status(f"Done in {seconds:.1f} s with {result.model}{note}")
        self.resultShown.emit(result)

    def _select_in_history(self, entry_id: str | None) -> None:
        """The strip highlights what is on screen, or nothing: never an older result."""
        item = self.history.item_for(entry_id) if entry_id else None
        if item is not None:
            self.history.setCurrentItem(item)  # rows also hold group tiles: find the item
        else:
            self.history.clearSelection()
            self.history.setCurrentItem(None)

    def _on_failed(self, error: Error) -> None:
        self.progress.reset_bar()
        self.show_error(error)
        self.progress.set_status("Render failed")

    def _on_cancelled(self) -> None:
        self.progress.reset_bar()
        self.compare.set_after(pil_to_qimage(self.result_image) if self.result_image else None)
        self.progress.set_status("Cancelled; nothing was saved")

    def show_error(self, error: Error) -> None:
        action = None
        if error.kind is ErrorKind.MODEL_MISSING:
            action = ("Open model manager", self.open_model_manager)
        self.banner.show_error(error, action)

    # -- results -----------------------------------------------------------------
    def show_entry(self, entry_id: str) -> None:
        self.banner.hide()  # an earlier failure is not about this result
        self.lib.show_entry(entry_id)  # with the photo it was made from

    def reopen_settings(self, entry_id: str) -> None:
        entry = self.library.get(entry_id)
        if entry is not None:
            self.gallery.select(entry.style)
            self.params.apply(entry.params)

    def delete_entry(self, entry_ids: str | list[str]) -> None:
        self.lib.delete([entry_ids] if isinstance(entry_ids, str) else entry_ids)

    def undo_delete(self) -> None:
        self.lib.undo_delete()

    def reveal_entry(self, entry_id: str) -> None:
        entry = self.library.get(entry_id)
        if entry is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(entry.image_path.parent)))

    def export_result(self, target: Path | None = None) -> Path | None:
        return self.exports.export_result(target)

    def quick_export(self) -> Path | None:
        return self.exports.quick_export()

    def _current_record(self) -> dict:
        """The record of the result on screen: a gallery item's own, else the last render's."""
        if self.current_entry is not None:
            return self.library.record(self.current_entry)
        if self.result is not None:
            return result_record(self.result)
        return build_record()

    def copy_result(self) -> None:
        if self.result_image is not None:
            QGuiApplication.clipboard().setImage(pil_to_qimage(self.result_image))
            self.progress.set_status("Result copied to the clipboard")

    # -- view, dialogs, settings -------------------------------------------------
    def set_compare_mode(self, mode: str) -> None:
        self.compare.set_mode(CompareMode(mode))
        for button, value in zip(self.mode_buttons.buttons(), CompareMode, strict=False):
            button.setChecked(value.value == mode)

    def open_model_manager(self) -> None:
        forgetter = self.renderer if isinstance(self.renderer, LocalRenderer) else None
        if self._model_manager is None:
            # probes the disk as it is built
            self._model_manager = ModelManager(
                self, self._models_dir(), forgetter, self.first_run.downloads
            )
            self._model_manager.modelsChanged.connect(self._refresh_models)
        else:
            self._model_manager.models_dir = self._models_dir()
            self._model_manager.refresh()
        self._model_manager.show()
        self._model_manager.raise_()

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            self.settings = dialog.result_settings()
            self._save_settings()
            if isinstance(self.renderer, LocalRenderer):
                self.renderer.models_dir = self._models_dir()
            apply_theme(QApplication.instance(), self.settings.theme)
            self.params.set_memory(self.settings.memory)
            self._refresh_models()

    def toggle_theme(self) -> None:
        current = QApplication.instance().property("photofluxTheme") or "dark"
        self.settings.theme = "light" if current == "dark" else "dark"
        apply_theme(QApplication.instance(), self.settings.theme)
        self._save_settings()

    def _models_dir(self) -> Path | None:
        """The models folder chosen in Settings; None leaves it to the engine's default."""
        return Path(self.settings.models_dir).expanduser() if self.settings.models_dir else None

    def _refresh_models(self) -> None:
        self.params.refresh_models(self._models_dir())
        self.gallery.set_ai_ready(first_installed(self._models_dir()) is not None)

    def _save_settings(self) -> None:
        try:
            save_settings(self.settings)
        except OSError as exc:
            self.show_error(Error(ErrorKind.BAD_INPUT, f"Settings could not be saved: {exc}"))

    def _restore_geometry(self) -> None:
        geometry = QSettings().value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 820)

    def showEvent(self, event: object) -> None:
        super().showEvent(event)
        if not self._shown:
            self._shown = True
            # posted paint events run before zero timers: the window is on screen
            QTimer.singleShot(0, self.firstShown.emit)
            if not self.assembled:
                QTimer.singleShot(0, lambda: self._assemble(*self._pending))
            QTimer.singleShot(0, self._after_first_show)

    def _after_first_show(self) -> None:
        if not self.assembled:  # still assembling (queued above): once that is done
            QTimer.singleShot(0, self._after_first_show)
            return
        # the grid, not its search box, starts with the focus: held Space compares
        # (a text field would take it as a space) and arrows + Enter pick a look
        self.gallery.view.setFocus()
        self._late_init()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.assembled:  # closed while starting: nothing to save or stop yet
            super().closeEvent(event)
            return
        QSettings().setValue("window/geometry", self.saveGeometry())
        self.hide()  # quitting looks instant; a render stops within a step, unseen
        self.first_run.downloads.pause()  # the partial is kept for next time
        if self.controller.busy:
            self.controller.cancel()
            self.controller.wait(30000)
        # a preload only imports libraries: nothing to wait for, nothing to lose
        self.batch.cancel()
        self.batch.wait()
        self.deletes.flush()  # the undo window ends with the window
        self.studio.shutdown()
        self.looks.wait()
        self._save_settings()
        super().closeEvent(event)
