from __future__ import annotations

import random

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
    assert photo.original_size[0] < 4000  # draft mode decoded at reduced scale


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
