"""What the library strip's actions do in the main window: show a result with its own
photo, use it as a new photo, more like this, favourites, delete with undo.

Kept out of main_window.py (shared by many hands): the window owns the widgets and
forwards to this object; exports are in ui/export_actions.py, batches in
ui/batch_actions.py. Everything here runs on the GUI thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from photoflux_desktop.engine.errors import Error, ErrorKind
from photoflux_desktop.engine.intake import Photo
from photoflux_desktop.engine.library import LibraryEntry
from photoflux_desktop.ui.images import pil_to_qimage
from photoflux_desktop.ui.widgets.history_strip import style_name

if TYPE_CHECKING:
    from photoflux_desktop.ui.main_window import MainWindow


class LibraryController:
    def __init__(self, window: MainWindow) -> None:
        self.w = window
        self._photo_key: tuple[int, str] | None = None  # (id of the Photo, its key)

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
            w.progress.set_status("")  # its caption described what is gone
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
