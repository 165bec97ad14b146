"""Saving results: one-click Save to the remembered folder, Save as…, several at once.

Every write goes through the engine (resize, then mark once, read back after encoding)
and ends with a toast that offers to open the folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image
from PySide6.QtCore import QStandardPaths, QUrl
from PySide6.QtGui import QDesktopServices

from photoflux_desktop.engine.errors import Error, ErrorKind, PhotoFluxError
from photoflux_desktop.engine.export_presets import (
    SIZE_PRESETS,
    export_image,
    export_name,
    free_path,
)
from photoflux_desktop.engine.output import OutputOptions, WrittenImage
from photoflux_desktop.ui.dialogs.export_dialog import ExportDialog
from photoflux_desktop.ui.flagged_export import export_allowed

if TYPE_CHECKING:
    from photoflux_desktop.ui.main_window import MainWindow


NO_RESULT = Error(
    ErrorKind.BAD_INPUT,
    "There is no result to export yet.",
    "Render first, or pick one from the library.",
)


class ExportActions:
    def __init__(self, window: MainWindow) -> None:
        self.w = window

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
        written = self.write(w.result_image, target, w._current_record())
        if written is not None:
            self.saved_toast(f"Saved {written.path.name}", written)
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
            written = self.write(picture, target, w.library.record(entry))
            if written is None:
                break  # the banner says why; the next file would fail the same way
            paths.append(written.path)
        if paths:
            self.saved_toast(f"Saved {len(paths)} results to {folder.name}", None)
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
        written = self.write(
            w.result_image, Path(target), w._current_record(), dialog.options(), long_side
        )
        if written is None:
            return None
        self.saved_toast(f"Exported {written.path.name}", written)
        return written.path

    def write(
        self,
        image: Image.Image,
        target: Path,
        record: dict,
        options: OutputOptions | None = None,
        long_side: int | None = -1,
    ) -> WrittenImage | None:
        if not export_allowed(self.w, record):  # a flagged image: ask or refuse
            return None
        side = self._long_side(image) if long_side == -1 else long_side
        try:
            written = export_image(image, target, record, options or self._options(), side)
        except PhotoFluxError as exc:
            self.w.show_error(exc.error)
            return None
        self.w.exported.emit(written.format.lower())  # usage event (studio analytics)
        return written

    def saved_toast(self, text: str, written: WrittenImage | None) -> None:
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
