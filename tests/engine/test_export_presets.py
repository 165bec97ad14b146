"""Size presets, free file names and the export write (resize, then mark once)."""

from __future__ import annotations

from PIL import Image

from photoflux_desktop.engine.contact_sheet import compose
from photoflux_desktop.engine.export_presets import (
    SIZE_PRESETS,
    export_image,
    export_name,
    free_path,
)
from photoflux_desktop.engine.output import OutputOptions
from photoflux_desktop.engine.provenance import build_record
from photoflux_desktop.engine.verify import verify_image


def test_print_presets_are_300_dpi_pixels():
    assert SIZE_PRESETS["social"].long_side == 1080
    assert SIZE_PRESETS["print-10x15"].long_side == 1772  # 150 mm at 300 dpi
    assert SIZE_PRESETS["print-a4"].long_side == 3508  # 297 mm at 300 dpi
    assert SIZE_PRESETS["original"].target_side((640, 427)) == 640


def test_free_path_never_overwrites(tmp_path):
    assert export_name("holiday.jpg", "watercolor") == "holiday-watercolor"
    first = free_path(tmp_path, "a", ".png")
    first.write_bytes(b"x")
    assert free_path(tmp_path, "a", ".png").name == "a-2.png"


def test_export_resizes_then_marks_and_reads_the_mark_back(tmp_path):
    image = Image.effect_noise((300, 200), 60).convert("RGB")
    written = export_image(
        image, tmp_path / "x.jpg", build_record(style="comic"), OutputOptions(), 600
    )
    assert written.size == (600, 400) and written.watermark.detected
    report = verify_image(written.path)
    assert report.watermark.detected and report.metadata["export_long_side"] == 600


def test_contact_sheet_lays_out_captioned_tiles():
    tiles = [(f"style {i}", Image.new("RGB", (90, 60), (i * 40, 0, 0))) for i in range(5)]
    sheet = compose(tiles, columns=4)
    assert sheet.width > 4 * 90 and sheet.height > 2 * 60
