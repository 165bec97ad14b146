"""One-step export: size presets, a free file name in a folder, and the write itself.

Sizes are long-side targets. Print sizes are the pixels a 300 dpi print needs; a result
smaller than that is enlarged here (a print lab would do it anyway, less carefully).
The image is resized first and handed to `write_image`, which marks it once, after the
resize, and reads the mark back from the encoded file.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PIL import Image

from photoflux_desktop.engine.library import current_umask
from photoflux_desktop.engine.output import OutputOptions, WrittenImage, write_image

PRINT_DPI = 300
MM_PER_INCH = 25.4


@dataclass(frozen=True)
class SizePreset:
    id: str
    label: str
    long_side: int | None  # None: the result's own size

    def target_side(self, size: tuple[int, int]) -> int:
        return self.long_side or max(size)


def _print(mm: float) -> int:
    return round(mm / MM_PER_INCH * PRINT_DPI)


SIZE_PRESETS: dict[str, SizePreset] = {
    p.id: p
    for p in (
        SizePreset("original", "Original size", None),
        SizePreset("social", "Social (1080 px)", 1080),
        SizePreset("print-10x15", "Print 10×15 cm (300 dpi)", _print(150)),
        SizePreset("print-13x18", "Print 13×18 cm (300 dpi)", _print(180)),
        SizePreset("print-a4", "Print A4 (300 dpi)", _print(297)),
    )
}


def resized(image: Image.Image, long_side: int) -> Image.Image:
    """The image with its long side at `long_side`, smaller or larger."""
    if max(image.size) == long_side:
        return image
    scale = long_side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.convert("RGB").resize(size, Image.Resampling.LANCZOS)


def free_path(folder: Path, stem: str, suffix: str) -> Path:
    """`folder/stem.suffix`, or `stem-2`, `stem-3`… when taken: never overwrite."""
    candidate = folder / f"{stem}{suffix}"
    number = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{number}{suffix}"
        number += 1
    return candidate


def export_name(source_name: str, style: str) -> str:
    """'holiday.jpg' + 'watercolor' -> 'holiday-watercolor'."""
    stem = Path(source_name).stem or "photo"
    return f"{stem}-{style}" if style else f"{stem}-styled"


def export_image(
    image: Image.Image,
    target: Path,
    record: dict[str, Any],
    options: OutputOptions,
    long_side: int | None = None,
) -> WrittenImage:
    """Resize to `long_side` (up or down), then write with provenance and marks; the
    file gets the permissions of any new file of the user's (umask), not 0600."""
    if long_side:
        image = resized(image, long_side)
        record = {**record, "export_long_side": long_side}
    written = write_image(image, target, record, replace(options, max_side=None))
    written.path.chmod(0o666 & ~current_umask())
    return written
