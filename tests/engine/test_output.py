from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from photoflux_desktop.engine import output as output_module
from photoflux_desktop.engine.errors import PhotoFluxError
from photoflux_desktop.engine.output import OutputOptions, encode_bytes, write_image
from photoflux_desktop.engine.provenance import TRAINED_ALGORITHMIC_MEDIA, build_record
from photoflux_desktop.engine.verify import verify_image
from photoflux_desktop.engine.watermark import (
    Corner,
    VisibleWatermark,
    detect_invisible,
    embed_invisible,
)
from tests import hostile_files as hf


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
def test_round_trip_metadata_and_watermark(tmp_path, astronaut, suffix):
    record = build_record(style="comic", model="sd-turbo", seed=42, ai_generated=True)
    written = write_image(astronaut, tmp_path / f"out{suffix}", record)
    assert written.watermark.detected
    report = verify_image(written.path)
    assert report.made_by_photoflux
    assert report.watermark.detected
    assert report.metadata["seed"] == 42
    assert report.metadata["style"] == "comic"
    assert report.metadata["digital_source_type"] == TRAINED_ALGORITHMIC_MEDIA


def test_instant_results_do_not_claim_ai(tmp_path, astronaut):
    written = write_image(
        astronaut, tmp_path / "o.png", build_record(style="x", ai_generated=False)
    )
    assert "digital_source_type" not in verify_image(written.path).metadata


def test_watermark_survives_jpeg_recompression(astronaut):
    marked, check = embed_invisible(astronaut)
    assert check.detected
    recompressed = Image.open(io.BytesIO(hf.encode(marked, "JPEG", quality=75)))
    assert detect_invisible(recompressed).detected


def test_unmarked_photo_is_not_detected(tmp_path, astronaut_path, rocket_path):
    for path in (astronaut_path, rocket_path):
        report = verify_image(path)
        assert not report.made_by_photoflux
        assert report.watermark.bit_accuracy < 0.8
        assert "no sign of PhotoFlux" in report.verdict


def test_metadata_stripped_still_detected_by_watermark(tmp_path, astronaut):
    written = write_image(astronaut, tmp_path / "o.png", build_record(style="x"))
    stripped = tmp_path / "stripped.png"
    Image.open(written.path).convert("RGB").save(stripped)  # drops every text chunk
    report = verify_image(stripped)
    assert report.metadata is None and report.watermark.detected
    assert "metadata was removed" in report.verdict


def test_small_images_skip_the_watermark_with_a_reason(tmp_path):
    small = Image.new("RGB", (128, 128), "teal")
    written = write_image(small, tmp_path / "s.png", build_record(style="x"))
    assert not written.watermark.checked
    assert "smaller" in written.watermark.reason
    assert verify_image(written.path).metadata is not None


def test_no_watermark_option(tmp_path, astronaut):
    written = write_image(
        astronaut, tmp_path / "o.png", build_record(), OutputOptions(invisible_watermark=False)
    )
    assert written.watermark.reason == "disabled"
    assert not verify_image(written.path).watermark.detected


def test_private_exif_never_reaches_the_output(tmp_path, astronaut):
    from photoflux_desktop.engine.intake import load_photo

    photo = load_photo(hf.gps_jpeg(astronaut))
    written = write_image(photo.image, tmp_path / "o.jpg", build_record())
    exif = Image.open(written.path).getexif()
    assert 0x8825 not in exif  # GPS IFD
    assert exif.get(0x010F) is None  # camera make
    assert b"SecretCam" not in written.path.read_bytes()


def test_visible_watermark_marks_only_its_corner(astronaut):
    from photoflux_desktop.engine.output import prepare_image

    options = OutputOptions(
        invisible_watermark=False,
        visible_watermark=VisibleWatermark(text="STUDIO", corner=Corner.TOP_LEFT, opacity=1.0),
    )
    marked, _ = prepare_image(astronaut, options)
    before, after = np.asarray(astronaut, np.int16), np.asarray(marked, np.int16)
    changed = np.abs(after - before).sum(axis=2) > 0
    h, w = changed.shape
    assert changed[: h // 4, : w // 2].any()
    assert not changed[h // 2 :, :].any() and not changed[:, w * 3 // 4 :].any()


def test_logo_watermark(tmp_path, astronaut):
    from photoflux_desktop.engine.output import prepare_image

    logo = tmp_path / "logo.png"
    Image.new("RGBA", (40, 20), (255, 0, 0, 255)).save(logo)
    options = OutputOptions(
        invisible_watermark=False, visible_watermark=VisibleWatermark(logo=logo, opacity=1.0)
    )
    marked, _ = prepare_image(astronaut, options)
    r, g, _b = marked.getpixel((astronaut.width - 20, astronaut.height - 15))
    assert r > 200 and g < 50


def test_failed_write_leaves_nothing_behind(tmp_path, astronaut, monkeypatch):
    target = tmp_path / "keep.png"
    target.write_bytes(b"previous result")

    def explode(image, fp, *args, **kwargs):
        fp.write(b"half an image")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output_module, "_encode", explode)
    with pytest.raises(PhotoFluxError, match="No space left"):
        write_image(astronaut, target, build_record())
    assert target.read_bytes() == b"previous result"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.png"]


def test_bad_output_names(tmp_path, astronaut):
    with pytest.raises(PhotoFluxError, match="unknown image type"):
        write_image(astronaut, tmp_path / "out.gif", build_record())
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(PhotoFluxError, match="is a folder"):
        write_image(astronaut, tmp_path / "dir.png", build_record())


def test_creates_missing_parent_folders(tmp_path, astronaut):
    written = write_image(astronaut, tmp_path / "a" / "b" / "o.webp", build_record())
    assert written.path.is_file() and written.format == "WEBP"


def test_encode_bytes_carries_metadata(astronaut):
    data = encode_bytes(astronaut, "JPEG", build_record(style="comic"))
    assert b"photoflux:Params" in data


def test_an_image_is_marked_once(astronaut):
    marked, first = embed_invisible(astronaut)
    again, second = embed_invisible(marked)
    assert first.detected and second.detected and "already marked" in second.reason
    assert np.array_equal(np.asarray(again), np.asarray(marked))  # no second distortion


def test_the_mark_is_faint(astronaut):
    marked, _ = embed_invisible(astronaut)
    diff = np.asarray(marked, np.float64) - np.asarray(astronaut, np.float64)
    psnr = 10 * np.log10(255**2 / np.mean(diff**2))
    assert psnr > 40 and np.abs(diff).max() <= 8


def test_files_marked_by_the_old_invisible_watermark_package_still_read(tmp_path):
    from tests.conftest import DATA

    report = verify_image(DATA / "rocket-old-watermark.jpg")
    assert report.watermark.detected and report.metadata is None


def test_odd_sizes_and_alpha_are_marked(tmp_path, astronaut):
    odd = astronaut.resize((397, 301)).convert("RGBA")
    written = write_image(odd, tmp_path / "odd.png", build_record())
    assert written.watermark.detected and verify_image(written.path).watermark.detected


@pytest.mark.parametrize("style", ["pencil-sketch", "pop-art", "comic", "watercolor"])
@pytest.mark.parametrize("suffix", [".jpg", ".webp"])
def test_the_file_never_claims_a_mark_that_encoding_erased(tmp_path, astronaut, style, suffix):
    """Flat, high-contrast looks lost the mark in JPEG while the metadata said it was
    there: the claim is now checked on the encoded bytes, after the last transformation."""
    from photoflux_desktop.engine.instant_styles import apply_instant_style
    from photoflux_desktop.engine.presets import get_preset

    preset = get_preset(style)
    styled = apply_instant_style(astronaut, preset.instant.style, preset.instant.amount, 1)
    written = write_image(
        styled, tmp_path / f"o{suffix}", build_record(style=style), OutputOptions(quality=75)
    )
    report = verify_image(written.path)
    assert report.metadata["invisible_watermark"] == report.watermark.detected
    assert written.watermark.detected == report.watermark.detected
    if not report.watermark.detected:
        assert "erased" in written.watermark.reason


def test_quality_is_raised_when_the_requested_one_erases_the_mark(tmp_path, monkeypatch):
    calls: list[int] = []
    real = output_module.encode_bytes

    def spy(image, fmt, record, quality=92):
        calls.append(quality)
        return real(image, fmt, record, quality)

    monkeypatch.setattr(output_module, "encode_bytes", spy)
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 255, (512, 512, 3), np.uint8))
    written = write_image(noise, tmp_path / "o.jpg", build_record(), OutputOptions(quality=5))
    report = verify_image(written.path)
    assert report.metadata["invisible_watermark"] == report.watermark.detected
    assert calls[0] == 5 and len(calls) >= 2  # quality 5 cannot carry it; a rescue was tried


@pytest.mark.parametrize("where", ["text", "xmp"])
def test_verify_reads_hostile_nested_metadata_as_no_record(tmp_path, where):
    """Found by the outside review: `[` * 100000 in a PNG text chunk or the XMP
    packet was a RecursionError, reported as an unexpected problem (exit 1)."""
    deep = "[" * 100_000
    info = PngImagePlugin.PngInfo()
    if where == "text":
        info.add_text("photoflux", deep)
    else:
        params = f'photoflux:Params="{deep}" xmlns:photoflux="https://photoflux.app/ns/1.0/"'
        packet = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><d {params}/></x:xmpmeta>'
        info.add_itxt("XML:com.adobe.xmp", packet)
    Image.new("RGB", (300, 300), "teal").save(tmp_path / "deep.png", pnginfo=info)
    assert verify_image(tmp_path / "deep.png").metadata is None
