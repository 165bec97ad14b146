"""A contact sheet: one photo in many styles, as a captioned grid in a single image."""

from __future__ import annotations

import math

from PIL import Image, ImageDraw, ImageFont

CAPTION = 28
GAP = 12


def compose(
    tiles: list[tuple[str, Image.Image]], columns: int = 4, tile_side: int = 320
) -> Image.Image:
    """Each (caption, image) fitted into a square cell, caption below, on white."""
    if not tiles:
        raise ValueError("a contact sheet needs at least one image")
    columns = max(1, min(columns, len(tiles)))
    tile_side = min(tile_side, max(max(image.size) for _, image in tiles))  # never enlarge
    rows = math.ceil(len(tiles) / columns)
    cell_w, cell_h = tile_side, tile_side + CAPTION
    sheet = Image.new("RGB", (GAP + columns * (cell_w + GAP), GAP + rows * (cell_h + GAP)), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=16)
    for index, (caption, image) in enumerate(tiles):
        x = GAP + (index % columns) * (cell_w + GAP)
        y = GAP + (index // columns) * (cell_h + GAP)
        fitted = image.convert("RGB")
        fitted.thumbnail((tile_side, tile_side), Image.Resampling.LANCZOS)
        sheet.paste(
            fitted, (x + (tile_side - fitted.width) // 2, y + (tile_side - fitted.height) // 2)
        )
        draw.text(
            (x + tile_side // 2, y + tile_side + 6), caption, fill="black", font=font, anchor="mt"
        )
    return sheet
