"""The main window: layout and wiring only; work happens in the engine and the controller."""

from __future__ import annotations

import io
import secrets
from dataclasses import replace
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QSettings, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QDesktopServices, QGuiApplication, QImage, QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QFileDialog,
    QHBoxLayout,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from photoflux_desktop.engine.errors import Error, ErrorKind, PhotoFluxError
from photoflux_desktop.engine.intake import Photo, load_photo
from photoflux_desktop.engine.library import Library, LibraryEntry
from photoflux_desktop.engine.local_renderer import LocalRenderer
from photoflux_desktop.engine.model_store import first_installed
from photoflux_desktop.engine.output import write_image
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
from photoflux_desktop.ui.dialogs.export_dialog import ExportDialog
from photoflux_desktop.ui.dialogs.model_manager import ModelManager
from photoflux_desktop.ui.dialogs.settings_dialog import SettingsDialog
from photoflux_desktop.ui.images import pil_to_qimage, qimage_to_pil
from photoflux_desktop.ui.instant_looks import InstantLooks
from photoflux_desktop.ui.preload import EnginePreloader
from photoflux_desktop.ui.render_controller import RenderController
from photoflux_desktop.ui.theme import apply_theme
from photoflux_desktop.ui.widgets.compare_view import CompareMode, CompareView
from photoflux_desktop.ui.widgets.error_banner import ErrorBanner
from photoflux_desktop.ui.widgets.history_strip import HistoryStrip
from photoflux_desktop.ui.widgets.parameter_panel import ParameterPanel
from photoflux_desktop.ui.widgets.progress_panel import ProgressPanel
from photoflux_desktop.ui.widgets.style_gallery import StyleGallery

PHOTO_FILTER = "Photos (*.jpg *.jpeg *.png *.tif *.tiff *.webp *.gif *.bmp);;All files (*)"


class MainWindow(QMainWindow):
    firstShown = Signal()
    resultShown = Signal(object)  # RenderResult

    def __init__(self, renderer: Renderer | None = None, library: Library | None = None) -> None:
        super().__init__()
        self.setWindowTitle("PhotoFlux")
        self.setMinimumSize(800, 600)
        self.settings, settings_note = load_settings()
        self.library = library or Library()
        renderer = renderer or LocalRenderer(self._models_dir())
        self.renderer = renderer
        self.controller = RenderController(renderer, self.library)
        self.preloader = EnginePreloader(renderer) if isinstance(renderer, LocalRenderer) else None
        self.photo: Photo | None = None
        self.result: RenderResult | None = None
        self.result_image: Image.Image | None = None
        self.current_entry: LibraryEntry | None = None
        self.source_name = "photo"
        self._shown = False
        self._model_manager: ModelManager | None = None
        self._build()
        self.actions_by_name = build_menus(self)
        self._connect()
        self._restore_geometry()
        if settings_note:
            self.banner.show_error(Error(ErrorKind.BAD_INPUT, settings_note))
        QTimer.singleShot(0, self._late_init)

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
        center = QWidget()
        column = QVBoxLayout(center)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.banner)
        column.addLayout(self._compare_toolbar())
        column.addWidget(self.compare, 1)
        column.addWidget(self.history)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.params)
        side_layout.addWidget(scroll, 1)
        side_layout.addWidget(self.progress)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        for widget, stretch in ((self.gallery, 1), (center, 3), (side, 0)):
            splitter.addWidget(widget)
            splitter.setStretchFactor(splitter.count() - 1, stretch)
        side.setMinimumWidth(290)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([340, 600, 340])
        self.setCentralWidget(splitter)

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
        row.addWidget(self.hold_button)
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
        c = self.controller
        c.started.connect(lambda: self.progress.set_busy(True))
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
        h.exportRequested.connect(
            lambda entry_id: (self.show_entry(entry_id), self.export_result())
        )

    def _late_init(self) -> None:
        """Work that may touch the disk or the HF cache, after the window is up."""
        self._refresh_models()
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
        self.params.set_completions(self.library.prompts() + vocabulary)
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
        self.compare.set_before(pil_to_qimage(photo.image))
        self.compare.set_after(None)
        self.looks.photo_opened(photo.image, self.source_name)
        self.progress.set_status(
            f"{self.source_name}: {photo.original_size[0]}×{photo.original_size[1]} "
            f"{photo.format} · click an Instant look, or pick an AI style and press Render"
        )
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
        p = self.params.values()
        if not p.seed_locked:
            self.params.seed.setValue(secrets.randbelow(2**31))
            p = self.params.values()
        try:  # the request checks every value; a bad one is shown, not raised
            return RenderRequest(
                image=self.photo.image,
                style_id=style_id,
                prompt=p.prompt,
                model=None if p.model == "auto" else p.model,
                steps=p.steps,
                strength=p.strength,
                guidance=p.guidance,
                seed=p.seed,
                max_side=p.max_side,
                likeness=p.likeness,
                loras=(LoraSpec(p.lora_path, p.lora_weight),) if p.lora_path else (),
                device=self.settings.device,
                memory=self.settings.memory,
                quantize=self.settings.quantize,
                previews=True,
            )
        except PhotoFluxError as exc:
            self.show_error(exc.error)
            return None

    def render(self) -> None:
        if self.controller.busy:
            return
        request = self.build_request()
        if request is None:
            return
        if request.max_side < max(request.image.size):
            scaled = request.image.copy()
            scaled.thumbnail((request.max_side, request.max_side), Image.Resampling.LANCZOS)
            request = replace(request, image=scaled)
        self.banner.hide()
        self.controller.start(request, self.source_name)

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
        if entry is not None:
            self.history.add_entry(entry)
        seconds = result.timings.get("total", 0.0)
        note = f" · {result.notes[0]}" if result.notes else ""
        self.progress.set_status(f"Done in {seconds:.1f} s with {result.model}{note}")
        self.resultShown.emit(result)

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
        entry = self.library.get(entry_id)
        if entry is None:
            return
        with Image.open(entry.image_path) as image:
            self.result_image = image.convert("RGB")
        self.current_entry = entry
        if self.photo is None:
            self.compare.set_before(pil_to_qimage(self.result_image))
        self.compare.set_after(pil_to_qimage(self.result_image))
        self.progress.set_status(f"{entry.style} · {entry.model} · seed {entry.seed}")

    def reopen_settings(self, entry_id: str) -> None:
        entry = self.library.get(entry_id)
        if entry is not None:
            self.gallery.select(entry.style)
            self.params.apply(entry.params)

    def delete_entry(self, entry_id: str) -> None:
        if self.library.delete(entry_id):
            self.history.remove_entry(entry_id)

    def reveal_entry(self, entry_id: str) -> None:
        entry = self.library.get(entry_id)
        if entry is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(entry.image_path.parent)))

    def export_result(self, target: Path | None = None) -> Path | None:
        if self.result_image is None:
            self.show_error(
                Error(
                    ErrorKind.BAD_INPUT,
                    "There is no result to export yet.",
                    "Render first, or pick one from the gallery.",
                )
            )
            return None
        stem = Path(self.source_name).stem
        suggested = Path(self.settings.last_open_dir or Path.home()) / (
            f"{stem}-styled.{self.settings.export_format}"
        )
        dialog = ExportDialog(
            suggested,
            self.result_image.size,
            self.settings.export_format,
            self.settings.watermark_on_export,
            self,
        )
        if target is None:
            if not dialog.exec():
                return None
            target = dialog.target()
        record = self._current_record()
        try:
            written = write_image(self.result_image, target, record, dialog.options())
        except PhotoFluxError as exc:
            self.show_error(exc.error)
            return None
        self.progress.set_status(
            f"Exported {written.path.name} ({written.size[0]}×{written.size[1]})"
        )
        return written.path

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

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.compare.set_holding(True)
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.compare.set_holding(False)
        super().keyReleaseEvent(event)

    def open_model_manager(self) -> None:
        forgetter = self.renderer if isinstance(self.renderer, LocalRenderer) else None
        if self._model_manager is None:
            # probes the disk as it is built
            self._model_manager = ModelManager(self, self._models_dir(), forgetter)
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
            QTimer.singleShot(0, self.firstShown.emit)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.controller.busy:
            self.controller.cancel()
            self.controller.wait(30000)
        self.looks.wait()
        if self.preloader is not None:
            self.preloader.wait()
        QSettings().setValue("window/geometry", self.saveGeometry())
        self._save_settings()
        super().closeEvent(event)
