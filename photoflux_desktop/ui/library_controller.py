"""What the library, export and batch controls do in the main window.

Kept out of main_window.py (shared by many hands): the window owns the widgets and
forwards to this object. Everything here runs on the GUI thread; renders go through
the render controller or the batch queue, files through the engine.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image
from PySide6.QtCore import QStandardPaths, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog

from photoflux_desktop.engine.contact_sheet import compose
from photoflux_desktop.engine.errors import Error, ErrorKind, PhotoFluxError
from photoflux_desktop.engine.export_presets import (
    SIZE_PRESETS,
    export_image,
    export_name,
    free_path,
)
from photoflux_desktop.engine.intake import Photo
from photoflux_desktop.engine.library import LibraryEntry
from photoflux_desktop.engine.output import OutputOptions, WrittenImage
from photoflux_desktop.engine.presets import bundled_presets
from photoflux_desktop.engine.provenance import build_record
from photoflux_desktop.engine.request import LoraSpec, RenderRequest
from photoflux_desktop.ui.batch_queue import BatchItem, folder_photos
from photoflux_desktop.ui.dialogs.contact_sheet import ContactSheetDialog
from photoflux_desktop.ui.dialogs.export_dialog import ExportDialog
from photoflux_desktop.ui.images import pil_to_qimage
from photoflux_desktop.ui.widgets.history_strip import style_name

if TYPE_CHECKING:
    from photoflux_desktop.ui.main_window import MainWindow

NO_RESULT = Error(
    ErrorKind.BAD_INPUT,
    "There is no result to export yet.",
    "Render first, or pick one from the library.",
)


class LibraryController:
    def __init__(self, window: MainWindow) -> None:
        self.w = window
        self._photo_key: tuple[int, str] | None = None  # (id of the Photo, its key)
        self.sheet: ContactSheetDialog | None = None

    # -- showing results ---------------------------------------------------------
    def show_entry(self, entry_id: str) -> None:
        w = self.w
        entry = w.library.get(entry_id)
        if entry is None:
            return
        try:
            with Image.open(entry.image_path) as image:
                w.result_image = image.convert("RGB")
        except OSError:
            w.show_error(Error(ErrorKind.BAD_INPUT, "This result's file is missing."))
            return
        w.result, w.current_entry = None, entry
        self._restore_source(entry)
        w.compare.set_after(pil_to_qimage(w.result_image))
        w.export_bar.set_has_result(True)
        seed = f" · seed {entry.seed}" if entry.backend == "diffusion" else ""
        w.progress.set_status(f"{style_name(entry.style)} · from {entry.source_name}{seed}")

    def _restore_source(self, entry: LibraryEntry) -> None:
        """Compare a result with the photo it was made from, never with whatever is open."""
        w = self.w
        if w.photo is not None and entry.source_key and entry.source_key == self.photo_key():
            return  # that photo is open already, at its full working size
        source = w.library.source_image(entry)
        if source is None:  # made before sources were kept: show the result on its own
            w.compare.set_before(None)
            return
        w.photo = Photo(source, entry.source_name, "PNG", source.size, "RGB")
        self._photo_key = (id(w.photo), entry.source_key)
        w.source_name = entry.source_name
        w.compare.set_before(pil_to_qimage(source))

    def photo_key(self) -> str:
        photo = self.w.photo
        if photo is None:
            return ""
        if self._photo_key is None or self._photo_key[0] != id(photo):
            self._photo_key = (id(photo), self.w.library.key_of(photo.image))
        return self._photo_key[1]

    def use_as_photo(self, entry_id: str) -> None:
        entry = self.w.library.get(entry_id)
        if entry is not None:
            name = f"{Path(entry.source_name).stem}-{entry.style}.png"
            self.w.open_photo(str(entry.image_path), name=name)

    def more_like_this(self, entry_id: str) -> None:
        """The same style and settings on the same photo, with a new seed."""
        w = self.w
        entry = w.library.get(entry_id)
        if entry is None or entry.backend != "diffusion" or w.controller.busy:
            return
        self.show_entry(entry_id)
        w.reopen_settings(entry_id)
        w.params.seed_lock.setChecked(False)  # render() draws a new seed
        w.render()

    def set_favourite(self, entry_ids: list[str], favourite: bool) -> None:
        for entry_id in entry_ids:
            self.w.library.set_favourite(entry_id, favourite)
            entry = self.w.library.get(entry_id)
            if entry is not None:
                self.w.history.update_entry(entry)

    # -- delete with undo --------------------------------------------------------
    def delete(self, entry_ids: list[str]) -> None:
        w = self.w
        if not entry_ids:
            return
        w.deletes.delete(entry_ids)
        w.history.remove_entries(entry_ids)
        if w.current_entry is not None and w.current_entry.id in entry_ids:
            w.current_entry, w.result_image = None, None
            w.compare.set_after(None)
        what = "1 result" if len(entry_ids) == 1 else f"{len(entry_ids)} results"
        w.toast.show_message(f"Deleted {what}", (("Undo", self.undo_delete),), seconds=10)

    def undo_delete(self) -> None:
        ids = self.w.deletes.undo()
        for entry_id in ids:
            entry = self.w.library.get(entry_id)
            if entry is not None:
                self.w.history.add_entry(entry)
        self.w.history.set_entries(self.w.library.entries())  # back in their places
        if ids:
            self.w.toast.show_message("Restored" if len(ids) == 1 else f"Restored {len(ids)}")

    # -- export --------------------------------------------------------------------
    def export_folder(self) -> Path:
        if self.w.settings.export_dir:
            return Path(self.w.settings.export_dir).expanduser()
        pictures = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
        return Path(pictures or Path.home()) / "PhotoFlux"

    def _options(self) -> OutputOptions:
        return OutputOptions(invisible_watermark=self.w.settings.watermark_on_export)

    def _long_side(self, image: Image.Image) -> int | None:
        preset = SIZE_PRESETS.get(self.w.settings.export_size)
        return preset.long_side if preset else None

    def quick_export(self) -> Path | None:
        """Save the result on screen to the remembered folder: no dialog."""
        w = self.w
        if w.result_image is None:
            w.show_error(NO_RESULT)
            return None
        name = w.current_entry.source_name if w.current_entry else w.source_name
        style = w.current_entry.style if w.current_entry else (w.gallery.current_style() or "")
        folder = self.export_folder()
        target = free_path(folder, export_name(name, style), "." + w.settings.export_format)
        written = self._write(w.result_image, target, w._current_record())
        if written is not None:
            self._saved_toast(f"Saved {written.path.name}", written)
        return written.path if written else None

    def export_entries(self, entry_ids: list[str]) -> list[Path]:
        """Save several library results to the remembered folder in one go."""
        w, paths = self.w, []
        folder = self.export_folder()
        for entry_id in entry_ids:
            entry = w.library.get(entry_id)
            if entry is None:
                continue
            with Image.open(entry.image_path) as image:
                picture = image.convert("RGB")
            stem = export_name(entry.source_name, entry.style)
            target = free_path(folder, stem, "." + w.settings.export_format)
            written = self._write(picture, target, w.library.record(entry))
            if written is None:
                break  # the banner says why; the next file would fail the same way
            paths.append(written.path)
        if paths:
            self._saved_toast(f"Saved {len(paths)} results to {folder.name}", None)
        return paths

    def export_result(self, target: Path | None = None) -> Path | None:
        """Save as…: the export dialog (or `target`, for scripted use)."""
        w = self.w
        if w.result_image is None:
            w.show_error(NO_RESULT)
            return None
        name = w.current_entry.source_name if w.current_entry else w.source_name
        style = w.current_entry.style if w.current_entry else (w.gallery.current_style() or "")
        folder = Path(w.settings.export_dir or w.settings.last_open_dir or Path.home())
        suggested = folder / f"{export_name(name, style)}.{w.settings.export_format}"
        dialog = ExportDialog(
            suggested,
            w.result_image.size,
            w.settings.export_format,
            w.settings.watermark_on_export,
            w,
            size_preset=w.settings.export_size,
        )
        if target is None:
            if not dialog.exec():
                return None
            target = dialog.target()
            w.settings.export_dir = str(Path(target).parent)  # Save now writes there too
            w.export_bar.set_folder(self.export_folder())
        long_side = dialog.target_long_side()
        long_side = None if long_side == max(w.result_image.size) else long_side
        written = self._write(
            w.result_image, Path(target), w._current_record(), dialog.options(), long_side
        )
        if written is None:
            return None
        self._saved_toast(f"Exported {written.path.name}", written)
        return written.path

    def _write(
        self,
        image: Image.Image,
        target: Path,
        record: dict,
        options: OutputOptions | None = None,
        long_side: int | None = -1,
    ) -> WrittenImage | None:
        side = self._long_side(image) if long_side == -1 else long_side
        try:
            return export_image(image, target, record, options or self._options(), side)
        except PhotoFluxError as exc:
            self.w.show_error(exc.error)
            return None

    def _saved_toast(self, text: str, written: WrittenImage | None) -> None:
        if written is not None:
            text += f" ({written.size[0]}×{written.size[1]})"
            if not written.watermark.detected and self.w.settings.watermark_on_export:
                text += " · without the invisible mark"
            folder = written.path.parent
        else:
            folder = self.export_folder()
        self.w.progress.set_status(text)
        self.w.export_bar.set_folder(self.export_folder())  # the folder may have changed
        self.w.toast.show_message(text, (("Open folder", lambda: self.open_folder(folder)),))

    @staticmethod
    def open_folder(folder: Path) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    # -- batch -------------------------------------------------------------------
    def base_request(self, image: Image.Image) -> RenderRequest | None:
        """The request the current controls describe, for any photo and style."""
        w = self.w
        p = w.params.values()
        try:
            return RenderRequest(
                image=image,
                style_id=w.gallery.current_style() or "watercolor",
                prompt=p.prompt,
                model=None if p.model == "auto" else p.model,
                steps=p.steps,
                strength=p.strength,
                guidance=p.guidance,
                seed=p.seed,
                max_side=p.max_side,
                likeness=p.likeness,
                loras=(LoraSpec(p.lora_path, p.lora_weight),) if p.lora_path else (),
                device=w.settings.device,
                memory=w.settings.memory,
                quantize=w.settings.quantize,
            )
        except PhotoFluxError as exc:
            w.show_error(exc.error)
            return None

    def all_styles(self) -> ContactSheetDialog | None:
        """Every style on the current photo: instant looks first, AI ones queued after."""
        w = self.w
        if w.photo is None:
            w.show_error(Error(ErrorKind.BAD_INPUT, "Open a photo first.", "Then try All styles."))
            return None
        base = self.base_request(w.photo.image)
        if base is None:
            return None
        base = replace(base, strength=None, steps=None, guidance=None)  # each style's own
        presets = bundled_presets().values()
        items = [
            BatchItem(p.id, w.source_name, "instant", image=w.photo.image)
            for p in presets
            if p.instant is not None
        ]
        if w.params.family() != "instant":
            items += [
                BatchItem(p.id, w.source_name, base.model, image=w.photo.image) for p in presets
            ]
        first = len(w.batch.items)
        w.batch.add(items, base)
        self.sheet = ContactSheetDialog(
            w.batch, list(range(first, first + len(items))), w.source_name, w
        )
        self.sheet.entryOpened.connect(w.show_entry)
        self.sheet.saveRequested.connect(self.save_sheet)
        self.sheet.show()
        return self.sheet

    def style_folder(self, folder: Path | None = None) -> int:
        """The chosen style on every photo of a folder; returns how many were queued."""
        w = self.w
        if folder is None:
            start = w.settings.last_open_dir or str(Path.home())
            chosen = QFileDialog.getExistingDirectory(w, "Style every photo in a folder", start)
            if not chosen:
                return 0
            folder = Path(chosen)
        photos = folder_photos(folder)
        base = self.base_request(Image.new("RGB", (64, 64)))
        if base is None:
            return 0
        if not photos:
            w.show_error(Error(ErrorKind.BAD_INPUT, f"{folder.name} holds no photos."))
            return 0
        items = [BatchItem(base.style_id, p.name, base.model, path=p) for p in photos]
        w.batch.add(items, base)
        w.progress.set_status(f"Queued {len(items)} photos from {folder.name}")
        return len(items)

    def save_sheet(self, tiles: list[tuple[str, Path]]) -> Path | None:
        if not tiles:
            return None
        images = []
        for caption, path in tiles:
            with Image.open(path) as image:
                images.append((caption, image.convert("RGB")))
        sheet = compose(images)
        stem = export_name(self.w.source_name, "all-styles")
        target = free_path(self.export_folder(), stem, ".jpg")
        record = build_record(style="contact-sheet", styles=[c for c, _ in tiles])
        written = self._write(sheet, target, record, long_side=None)
        if written is not None:
            self._saved_toast(f"Saved the contact sheet {written.path.name}", written)
        return written.path if written else None
