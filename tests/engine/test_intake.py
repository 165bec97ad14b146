from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photoflux_desktop.engine.errors import ErrorKind, PhotoFluxError
from photoflux_desktop.engine.intake import IntakeLimits, load_photo
from tests import hostile_files as hf


def refused(source, **kwargs) -> str:
    with pytest.raises(PhotoFluxError) as caught:
        load_photo(source, **kwargs)
    assert caught.value.error.kind is ErrorKind.BAD_INPUT
    return caught.value.error.message + " " + caught.value.error.hint


def test_real_photos_load_as_srgb_rgb(astronaut_path, rocket_path):
    for path in (astronaut_path, rocket_path):
        photo = load_photo(path, max_side=256)
        assert photo.image.mode == "RGB"
        assert max(photo.size) == 256
        assert photo.image.info == {}


def test_keeps_aspect_ratio_when_downscaling(rocket_path):
    photo = load_photo(rocket_path, max_side=320)
    assert photo.size == (320, 214)  # 640×427


def test_type_comes_from_bytes_not_name(tmp_path, astronaut_path):
    wrong_name = tmp_path / "photo.jpg"
    wrong_name.write_bytes(astronaut_path.read_bytes())  # a PNG called .jpg
    assert load_photo(wrong_name).format == "PNG"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (b"hello, this is not a picture\n" * 20, "text file"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n" + b"\x00" * 300, "PDF"),
        (b"\x00\x01\x02\x03" * 200, "not a recognisable image"),
    ],
)
def test_refuses_what_is_not_an_image(tmp_path, content, expected):
    path = tmp_path / "photo.jpg"
    path.write_bytes(content)
    assert expected in refused(path)


def test_missing_file_and_folder(tmp_path):
    assert "does not exist" in refused(tmp_path / "nope.png")
    assert "folder" in refused(tmp_path)


def test_truncated_jpeg_is_refused(rocket_path):
    data = rocket_path.read_bytes()
    assert "damaged or incomplete" in refused(data[: len(data) // 3])


def test_bomb_is_refused_before_decoding():
    message = refused(hf.png_bomb(100_000, 100_000))
    assert "too large" in message
    assert "megapixels" in message


def test_file_size_limit(astronaut_path):
    assert "limit" in refused(astronaut_path, limits=IntakeLimits(max_file_bytes=1000))


@pytest.mark.parametrize(("size", "expected"), [((8, 8), "at least"), ((900, 40), "aspect")])
def test_unusable_dimensions(size, expected):
    assert expected in refused(hf.encode(Image.new("RGB", size), "PNG"))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(orientation):
    upright = hf.gradient((96, 64))
    stored = hf.stored_for_orientation(upright, orientation)
    photo = load_photo(hf.with_orientation(stored, orientation), max_side=None)
    assert photo.size == upright.size
    got = np.asarray(photo.image, dtype=np.int16)
    want = np.asarray(upright, dtype=np.int16)
    assert np.abs(got - want).mean() < 6  # JPEG noise only, not a rotated image


def test_cmyk_becomes_rgb():
    photo = load_photo(hf.cmyk_jpeg())
    r, g, b = photo.image.getpixel((32, 32))
    assert photo.original_mode == "CMYK"
    assert r > 200 and g < 80 and b < 80  # C=0 M=255 Y=255 is red


def test_sixteen_bit_grey_is_scaled_not_clipped():
    photo = load_photo(hf.sixteen_bit_png_grey())
    arr = np.asarray(photo.image)
    assert arr.min() < 10 and arr.max() > 245
    assert 100 < arr.mean() < 155  # a full ramp, not a white-clipped image


@pytest.mark.parametrize("ext", ["png", "tiff"])
def test_sixteen_bit_rgb(tmp_path, ext):
    photo = load_photo(hf.sixteen_bit_rgb(tmp_path, ext))
    arr = np.asarray(photo.image)
    assert arr[..., 0, 0].mean() < 10 and arr[..., -1, 0].mean() > 240  # red ramp kept


def test_palette_with_transparency_is_flattened_on_white():
    photo = load_photo(hf.palette_with_transparency())
    assert photo.had_alpha
    assert photo.image.getpixel((10, 10)) == (0, 0, 255)  # opaque blue half
    assert photo.image.getpixel((50, 10)) == (255, 255, 255)  # transparent red half


def test_rgba_flattened(astronaut):
    rgba = astronaut.convert("RGBA")
    rgba.putalpha(0)
    photo = load_photo(hf.encode(rgba, "PNG"))
    assert photo.image.getpixel((5, 5)) == (255, 255, 255)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_animated_uses_first_frame(fmt):
    photo = load_photo(hf.animated(fmt))
    assert photo.frames == 3
    r, g, b = photo.image.getpixel((10, 10))
    assert r > 200 and g < 60 and b < 60


def test_multipage_tiff_uses_first_page():
    photo = load_photo(hf.multipage_tiff())
    assert photo.frames == 2
    assert photo.image.getpixel((90, 60))[0] > 200  # gradient, not the blue page


def test_icc_profile_is_converted_to_srgb(astronaut):
    data = hf.encode(astronaut, "JPEG", icc_profile=hf.renamed_srgb_profile())
    photo = load_photo(data)
    assert "converted embedded colour profile to sRGB" in photo.notes
    assert photo.image.mode == "RGB"


def test_unusable_icc_profile_is_ignored(astronaut):
    photo = load_photo(hf.encode(astronaut, "JPEG", icc_profile=b"not a profile" * 10))
    assert "ignored an unusable colour profile" in photo.notes


def test_webp_and_tiff_load(astronaut):
    for fmt in ("WEBP", "TIFF"):
        assert load_photo(hf.encode(astronaut, fmt)).format == fmt


def test_large_jpeg_is_decoded_reduced():
    big = Image.new("RGB", (4000, 3000), "orange")
    photo = load_photo(hf.encode(big, "JPEG", quality=80), max_side=1024)
    assert photo.size == (1024, 768)
    assert photo.decoded_size[0] < 4000  # draft mode decoded at reduced scale
    # once the reduced decode's size: the CLI and window reported a 4000 px photo as 2000 px
    assert photo.original_size == (4000, 3000)


def test_original_size_is_upright_when_a_quarter_turn_was_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90°: the file is stored 400×300, the photo is 300×400
    data = hf.encode(Image.new("RGB", (400, 300), "orange"), "JPEG", exif=exif.tobytes())
    photo = load_photo(data, max_side=100)
    assert photo.original_size == (300, 400) and photo.size[1] == 100


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF", "GIF"])
def test_random_corruption_never_escapes_as_a_crash(astronaut, fmt):
    """Hundreds of mutated files: each one is an image or a BAD_INPUT error, nothing else."""
    clean = hf.encode(astronaut.resize((128, 128)), fmt)
    rng = random.Random(f"corrupt-{fmt}")
    outcomes = {"image": 0, "refused": 0}
    for _ in range(120):
        data = bytearray(clean)
        mode = rng.choice(("flip", "truncate", "splice", "zero"))
        if mode == "flip":
            for _ in range(rng.randint(1, 30)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif mode == "truncate":
            data = data[: rng.randrange(1, len(data))]
        elif mode == "splice":
            start = rng.randrange(len(data))
            data[start:start] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 500)))
        else:
            start = rng.randrange(len(data))
            data[start : start + rng.randint(1, 2000)] = b"\x00" * 16
        try:
            photo = load_photo(bytes(data))
        except PhotoFluxError as exc:
            assert exc.error.kind is ErrorKind.BAD_INPUT
            outcomes["refused"] += 1
        else:
            assert photo.image.mode == "RGB"
            outcomes["image"] += 1
    assert outcomes["refused"] > 0


# --- every mode, premultiplied alpha, odd TIFF layouts -------------------------------------

ALL_MODES = [
    "1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr",
    "LAB", "HSV", "I", "I;16", "I;16L", "I;16B", "I;16N", "F",
]  # fmt: skip


@pytest.mark.parametrize("mode", ALL_MODES)
def test_every_pillow_mode_becomes_srgb_rgb(mode):
    """Through a TIFF file where Pillow can write the mode, else straight into conversion."""
    from PIL import TiffImagePlugin

    from photoflux_desktop.engine.intake_colour import to_srgb_rgb

    image = Image.new(mode, (48, 40))
    if mode in TiffImagePlugin.SAVE_INFO:
        photo = load_photo(hf.encode(image, "TIFF"), max_side=None)
        converted = photo.image
    else:
        converted = to_srgb_rgb(image, [])
    assert converted.mode == "RGB"
    assert converted.size == (48, 40)
    assert converted.info == {}


def test_premultiplied_grey_alpha_tiff_is_flattened_on_white():
    """The 32×32 'La' TIFF that ended in 'conversion from La to RGBA not supported'."""
    photo = load_photo(hf.grey_alpha_tiff(associated=True), max_side=None)
    assert photo.original_mode == "La"
    assert photo.had_alpha
    arr = np.asarray(photo.image, dtype=np.int16)
    assert (arr[:, :16] == 255).all()  # transparent half: white
    want = np.linspace(0, 255, 32)[16:].round()  # opaque half: the grey ramp, unchanged
    assert np.abs(arr[0, 16:, 0] - want).max() <= 1


def test_unassociated_grey_alpha_tiff_loads():
    photo = load_photo(hf.grey_alpha_tiff(associated=False), max_side=None)
    assert photo.original_mode == "LA"
    assert photo.image.getpixel((0, 0)) == (255, 255, 255)


def test_two_channel_tiff_without_alpha_tag_is_unsupported_not_damaged():
    message = refused(hf.grey_alpha_tiff(associated=None))
    assert "8-bit grey TIFF with 2 channels" in message
    assert "does not support" in message and "PNG" in message
    assert "damaged" not in message


def test_nested_sub_ifds_and_orientation_load():
    photo = load_photo(hf.tiff_with_sub_ifds(depth=4), max_side=None)
    assert photo.size == (32, 32)
    assert photo.image.getpixel((5, 0))[0] == 5


# --- bounded work ---------------------------------------------------------------------------


def test_strip_table_is_checked_before_pillow_builds_it(monkeypatch):
    from PIL import TiffImagePlugin

    def must_not_parse(*args, **kwargs):
        raise AssertionError("Pillow parsed the IFD before the strip table was checked")

    monkeypatch.setattr(TiffImagePlugin.ImageFileDirectory_v2, "load", must_not_parse)
    message = refused(hf.tiff_declaring_strips(1_000_000))
    assert "1,000,000 strips for a 32×32 picture" in message


def test_long_page_chain_is_not_walked(monkeypatch):
    """20,000 pages: the first is decoded, at most the counting limit is looked at."""
    from PIL import TiffImagePlugin

    loads = []
    original = TiffImagePlugin.ImageFileDirectory_v2.load
    monkeypatch.setattr(
        TiffImagePlugin.ImageFileDirectory_v2,
        "load",
        lambda self, fp: loads.append(1) or original(self, fp),
    )
    photo = load_photo(hf.tiff((32, 32), (8,), 1, bytes(range(32)) * 32, chain=20_000))
    assert photo.size == (32, 32)
    assert photo.frames == 100
    assert "used the first of at least 100 frames" in photo.notes
    assert len(loads) <= 3  # first page (+ its EXIF view), never the chain


def test_comment_segment_flood_is_refused():
    message = refused(hf.jpeg_with_comments(200_000))  # 800 KB of 4-byte segments
    assert "more than 4,096 segments" in message


def test_large_comment_segments_never_reach_pillow(monkeypatch):
    """30 MB of 60 KB comments: decoded, and Pillow's segment loop never sees them."""
    from PIL import JpegImagePlugin

    seen = []
    handler = JpegImagePlugin.MARKER[0xFFFE]
    monkeypatch.setitem(
        JpegImagePlugin.MARKER, 0xFFFE, (handler[0], handler[1], lambda *a: seen.append(a))
    )
    photo = load_photo(hf.jpeg_with_comments(500, 60_000))
    assert photo.size == (64, 64)
    assert seen == []


@pytest.mark.parametrize("after", [False, True])
def test_ancillary_chunk_flood(monkeypatch, after):
    """Before the picture: refused; after it: never read (only the first frame matters)."""
    from PIL import PngImagePlugin

    calls = []
    original = PngImagePlugin.PngStream.call
    monkeypatch.setattr(
        PngImagePlugin.PngStream,
        "call",
        lambda self, cid, pos, length: calls.append(cid) or original(self, cid, pos, length),
    )
    data = hf.png_with_chunks(100_000, after=after)
    if not after:
        assert "more than 4,096 chunks before its picture" in refused(data)
        assert calls == []
    else:
        assert load_photo(data).size == (64, 64)
        assert b"juNk" not in calls


def test_image_data_split_into_tiny_chunks_is_joined():
    photo = load_photo(hf.png_idat_pieces(3000))
    assert photo.image.getpixel((63, 0))[0] > 240


# --- special files --------------------------------------------------------------------------


def test_device_is_refused_without_reading_it():
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    message = refused("/dev/zero")
    assert "a device, not a photo file" in message


def test_fifo_is_refused_without_blocking(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    assert "a pipe (FIFO), not a photo file" in refused(fifo)


# --- messages -------------------------------------------------------------------------------


def test_twelve_bit_jpeg_is_unsupported_not_damaged():
    message = refused(hf.jpeg_precision(12))
    assert "a 12-bit JPEG, which PhotoFlux does not support" in message
    assert "8- or 16-bit PNG" in message
    assert "damaged" not in message


@pytest.mark.parametrize(
    ("bits", "formats", "described"),
    [
        ((16,), (3,), "a 16-bit floating-point grey TIFF"),
        ((32, 32, 32), (3, 3, 3), "a 32-bit floating-point RGB TIFF"),
        ((24,), (1,), "a 24-bit grey TIFF"),
    ],
)
def test_odd_tiffs_are_unsupported_not_damaged(bits, formats, described):
    pixels = bytes(32 * 32 * sum(bits) // 8)
    data = hf.tiff((32, 32), bits, 2 if len(bits) == 3 else 1, pixels, extra={339: (3, formats)})
    message = refused(data)
    assert f"{described}, which PhotoFlux does not support" in message
    assert "damaged" not in message


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("ICO", "an ICO"), ("AVIF", "an AVIF"), ("ELF", "an ELF"), ("MP4", "an MP4"),
        ("PNG", "a PNG"), ("PDF", "a PDF"), ("HEIC", "a HEIC"), ("ZIP", "a ZIP"),
        ("8-bit", "an 8-bit"), ("12-bit", "a 12-bit"), ("11-bit", "an 11-bit"),
    ],
)  # fmt: skip
def test_article_follows_the_sound(word, expected):
    from photoflux_desktop.engine.intake_sniff import with_article

    assert with_article(word) == expected


def test_ico_is_named_with_an():
    assert "an ICO image" in refused(hf.encode(Image.new("RGB", (32, 32)), "ICO"))


@pytest.mark.parametrize("content", [b"\x01", b"\x01\x02", b"\x7f\x1b\x02", b"\xff", b"\r\n"])
def test_tiny_binary_files_are_not_called_text(content):
    assert "text file" not in refused(content)


@pytest.mark.parametrize("value", [0, 9, 255, 65535])
def test_invalid_orientation_is_not_reported_as_applied(value):
    upright = hf.gradient((96, 64))
    photo = load_photo(hf.with_orientation(upright, value), max_side=None)
    assert photo.size == (96, 64)
    assert not any("orientation" in note for note in photo.notes)


# --- through the real command line ----------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]


def cli_render(path: Path, tmp_path: Path) -> tuple[int, dict]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = tmp_path / "out.png"
    args = ("render", str(path), "-o", str(out), "--model", "instant", "--json")
    proc = subprocess.run(
        [sys.executable, "-m", "photoflux_desktop", *args],
        capture_output=True,
        text=True,
        timeout=60,  # a regression that blocks or crawls fails here instead of hanging
        env=env,
    )
    assert "Traceback" not in proc.stderr
    assert not out.exists()
    return proc.returncode, json.loads(proc.stdout)["error"]


def test_cli_refuses_hostile_files_with_exit_2(tmp_path):
    cases = {
        "deep.jpg": (hf.jpeg_precision(12), "12-bit JPEG"),
        "strips.tif": (hf.tiff_declaring_strips(2_000_000), "2,000,000 strips"),
        "comments.jpg": (hf.jpeg_with_comments(100_000), "segments"),
        "chunks.png": (hf.png_with_chunks(50_000), "chunks"),
    }
    for name, (content, expected) in cases.items():
        (tmp_path / name).write_bytes(content)
        code, error = cli_render(tmp_path / name, tmp_path)
        assert code == 2, (name, error)
        assert expected in error["message"], (name, error)


def test_cli_fifo_returns_promptly(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)  # nobody ever writes: opening it for reading used to block forever
    code, error = cli_render(fifo, tmp_path)
    assert code == 2
    assert "pipe" in error["message"]


@pytest.mark.parametrize("byte", [b"\x00", b"\xff"])
def test_junk_between_segments_never_reaches_pillow(byte):
    from photoflux_desktop.engine.intake_structure import prepare

    data = hf.jpeg_with_junk(5_000_000, byte)  # Pillow steps over junk one byte per call
    assert len(prepare("JPEG", "x.jpg", data, IntakeLimits()).data) < 10_000
    assert load_photo(data).size == (64, 64)


def test_scan_flood_is_refused():
    assert "2,010 scans" in refused(hf.jpeg_with_scans(2000))


def test_damaged_common_tiff_is_damaged_not_unsupported():
    data = bytearray(hf.tiff((32, 32), (8, 8, 8), 2, bytes(32 * 32 * 3)))
    data[8 : 8 + 3072] = b""  # pixels gone: offsets now point past the end
    assert "damaged or incomplete" in refused(bytes(data))


@pytest.mark.parametrize("fmt", ["TIFF", "PNG", "WEBP"])
def test_orientation_in_other_formats_is_applied_once_and_noted(fmt):
    upright = hf.gradient((96, 64))
    exif = Image.Exif()
    exif[0x0112] = 6
    stored = hf.stored_for_orientation(upright, 6)
    photo = load_photo(hf.encode(stored, fmt, exif=exif.tobytes()), max_side=None)
    assert photo.size == (96, 64)
    assert "applied EXIF orientation 6" in photo.notes
    got = np.asarray(photo.image, dtype=np.int16)
    assert np.abs(got - np.asarray(upright, dtype=np.int16)).mean() < 6


@pytest.mark.parametrize("big_tiff", [False, True])
def test_multipage_tiff_pages_are_counted_without_decoding_them(big_tiff):
    pages = [hf.gradient(), Image.new("RGB", (96, 64), "blue"), Image.new("RGB", (96, 64), "red")]
    data = hf.encode(pages[0], "TIFF", save_all=True, append_images=pages[1:], big_tiff=big_tiff)
    photo = load_photo(data)
    assert photo.frames == 3
    assert "used the first of 3 frames" in photo.notes
    assert photo.image.getpixel((90, 60))[0] > 200  # the gradient page


def test_image_data_chunk_count_is_capped():
    message = refused(hf.png_idat_pieces(3000), limits=IntakeLimits(max_chunks=1000))
    assert "more than 1,000 chunks" in message


def test_gif_blocks_before_the_picture_are_capped():
    data = hf.gif_with_comments(5000)
    assert load_photo(data).size == (64, 48)
    message = refused(data, limits=IntakeLimits(max_chunks=1000))
    assert "more than 1,000 blocks before its picture" in message


def test_a_mode_without_conversion_is_refused_as_unsupported(monkeypatch):
    from photoflux_desktop.engine import intake

    def no_path(im, notes):
        raise ValueError(f"conversion from {im.mode} to RGB not supported")

    monkeypatch.setattr(intake, "to_srgb_rgb", no_path)
    message = refused(hf.grey_alpha_tiff(associated=True))
    assert "is a TIFF in La mode, which PhotoFlux does not support" in message


def test_a_narrow_photo_at_a_small_working_size_names_the_setting():
    """Found by the outside review: a valid 640×64 photo with --max-side 64 was refused
    as "image must be at least 32 px a side; got 64×6 px", a size the user never gave."""
    data = hf.encode(Image.new("RGB", (640, 64), "orange"), "PNG")
    with pytest.raises(PhotoFluxError) as caught:
        load_photo(data, max_side=64)
    error = caught.value.error
    assert error.details["field"] == "max_side" and "at least 320 px" in error.hint
    assert load_photo(data, max_side=320).size == (320, 32)
