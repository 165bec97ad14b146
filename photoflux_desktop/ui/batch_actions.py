"""Batches: All styles on the current photo (a contact sheet) and one style on a folder.

Items run through the batch queue (ui/batch_queue.py) off the GUI thread; results go to
the library and show up in the strip as they finish.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image
from PySide6.QtWidgets import QFileDialog

from photoflux_desktop.engine.contact_sheet import compose
from photoflux_desktop.engine.errors import Error, ErrorKind, PhotoFluxError
from photoflux_desktop.engine.export_presets import (
    export_name,
    free_path,
)
from photoflux_desktop.engine.presets import bundled_presets
from photoflux_desktop.engine.provenance import build_record
from photoflux_desktop.engine.request import LoraSpec, RenderRequest
from photoflux_desktop.ui.batch_queue import BatchItem, folder_photos
from photoflux_desktop.ui.dialogs.contact_sheet import ContactSheetDialog

if TYPE_CHECKING:
    from photoflux_desktop.ui.main_window import MainWindow


class BatchActions:
    def __init__(self, window: MainWindow) -> None:
        self.w = window
        self.sheet: ContactSheetDialog | None = None

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
                likeness_strength=p.likeness_strength if p.likeness != "none" else None,
                min_likeness=p.min_likeness,
                loras=(LoraSpec(p.lora_path, p.lora_weight),) if p.lora_path else (),
                device=w.settings.device,
                backend=w.settings.backend,
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
        target = free_path(self.w.exports.export_folder(), stem, ".jpg")
        record = build_record(style="contact-sheet", styles=[c for c, _ in tiles])
        written = self.w.exports.write(sheet, target, record, long_side=None)
        if written is not None:
            self.w.exports.saved_toast(f"Saved the contact sheet {written.path.name}", written)
        return written.path if written else None
