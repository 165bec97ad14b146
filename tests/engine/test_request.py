"""The render contract: every field checked when built, one wire format, one result shape."""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from photoflux_desktop.engine.errors import ErrorKind, PhotoFluxError
from photoflux_desktop.engine.presets import bundled_presets
from photoflux_desktop.engine.request import (
    WIRE_VERSION,
    Device,
    Likeness,
    LoraSpec,
    MemoryMode,
    Quantize,
    RenderParameters,
    RenderRequest,
)

EXISTING_FILE = str(Path(__file__))  # the request only needs a LoRA path that exists
FIELDS = (
    *("style_id", "prompt", "negative_prompt", "model", "steps", "strength", "guidance"),
    *("seed", "max_side", "likeness", "loras", "device", "memory", "quantize"),
    *("compile", "previews", "likeness_strength", "min_likeness"),
)


def photo(width: int = 64, height: int = 48, seed: int = 0) -> Image.Image:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return Image.fromarray(pixels, "RGB")


def build(**overrides) -> RenderRequest:
    return RenderRequest(**{"image": photo(), "style_id": "comic", **overrides})


def refused(call) -> PhotoFluxError:
    with pytest.raises(PhotoFluxError) as caught:
        call()
    assert caught.value.error.kind is ErrorKind.BAD_INPUT
    return caught.value


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("strength", 0),  # once a ZeroDivisionError deep in the renderer
        ("strength", 0.0),
        ("strength", -0.1),
        ("strength", 1.5),
        ("strength", float("nan")),
        ("strength", "0.5"),
        ("strength", True),
        ("steps", 0),
        ("steps", 101),
        ("steps", 2.5),
        ("steps", True),
        ("steps", "4"),
        ("guidance", -1),
        ("guidance", 30.5),
        ("guidance", float("inf")),
        ("seed", -1),
        ("seed", 2**32),
        ("seed", 1.0),
        ("max_side", 0),  # once a convolution error
        ("max_side", 63),
        ("max_side", 4097),
        ("max_side", None),
        ("memory", "bogus"),
        ("memory", None),
        ("device", "tpu"),  # once silently accepted
        ("device", 1),
        ("quantize", "int3"),  # once refused only after the model had loaded
        ("likeness", "pose"),
        ("style_id", "no-such-style"),
        ("style_id", ""),
        ("style_id", None),
        ("prompt", None),
        ("prompt", 5),
        ("prompt", "x" * 2001),
        ("prompt", "nul\x00byte"),
        ("negative_prompt", "x" * 2001),
        ("negative_prompt", 3),
        ("model", 5),
        ("model", "a\x00b"),
        ("loras", "style.safetensors"),
        ("loras", ["not a spec"]),
        ("loras", (LoraSpec("/no/such/lora.safetensors"),)),
        ("loras", tuple(LoraSpec(EXISTING_FILE) for _ in range(9))),
        ("compile", "yes"),
        ("compile", 1),
        ("previews", None),
    ],
)
def test_every_invalid_field_is_a_bad_input_naming_it(field, value):
    error = refused(lambda: build(**{field: value})).error
    assert field in error.message
    assert error.details["field"] == field


@pytest.mark.parametrize(
    ("image", "why"),
    [
        ("photo.jpg", "a PIL image"),
        (Image.new("RGBA", (64, 64)), "an RGB image"),
        (Image.new("L", (64, 64)), "an RGB image"),
        (Image.new("RGB", (0, 0)), "at least 32 px"),
        (Image.new("RGB", (16, 64)), "at least 32 px"),
        (Image.new("RGB", (400, 32)), "aspect ratio"),
    ],
)
def test_the_image_must_be_an_rgb_photo_within_the_intake_limits(image, why):
    error = refused(lambda: build(image=image)).error
    assert error.details["field"] == "image" and why in error.message


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"path": "", "weight": 1.0}, "loras.path"),
        ({"path": None, "weight": 1.0}, "loras.path"),
        ({"path": EXISTING_FILE, "weight": 5.0}, "loras.weight"),
        ({"path": EXISTING_FILE, "weight": float("nan")}, "loras.weight"),
        ({"path": EXISTING_FILE, "weight": "1"}, "loras.weight"),
    ],
)
def test_lora_specs_check_their_path_and_weight(kwargs, field):
    assert refused(lambda: LoraSpec(**kwargs)).error.details["field"] == field


def test_messages_say_what_is_allowed():
    message = refused(lambda: build(strength=0)).error.message
    assert message == (
        "strength must be a number above 0 and at most 1 (or None for the default); got 0."
    )
    assert "one of auto, full, lowmem, offload, sequential" in (
        refused(lambda: build(memory="bogus")).error.message
    )
    assert "comic" in refused(lambda: build(style_id="nope")).error.details["known"]


def test_strings_become_enums_and_compare_as_strings():
    request = build(
        device="cpu",
        memory="lowmem",
        quantize="int8",
        likeness="canny",
        model="",
        steps=np.int64(4),
    )
    assert request.device is Device.CPU and request.memory is MemoryMode.LOWMEM
    assert request.quantize is Quantize.INT8 and request.likeness is Likeness.CANNY
    assert request.memory == "lowmem" and request.quantize != "none"  # code may compare so
    assert request.model is None  # "" and "auto" both mean automatic
    assert request.steps == 4 and type(request.steps) is int
    assert build(strength=1).strength == 1.0 and type(build(strength=1).strength) is float
    assert build(loras=[LoraSpec(EXISTING_FILE)]).loras == (LoraSpec(EXISTING_FILE),)


def test_a_checked_request_cannot_be_changed_into_an_invalid_one():
    from dataclasses import replace

    request = build()
    refused(lambda: replace(request, strength=0))
    with pytest.raises(AttributeError):
        request.strength = 0  # type: ignore[misc]


# -- wire format ---------------------------------------------------------------------

texts = st.text(st.characters(blacklist_characters="\x00"), max_size=40)
requests = st.builds(
    RenderRequest,
    image=st.builds(
        photo,
        width=st.integers(32, 96),
        height=st.integers(32, 96),
        seed=st.integers(0, 2**16),
    ),
    style_id=st.sampled_from(sorted(bundled_presets())),
    prompt=texts,
    negative_prompt=st.none() | texts,
    model=st.none() | st.sampled_from(["instant", "sd-turbo", "/models/my model"]),
    steps=st.none() | st.integers(1, 100),
    strength=st.none() | st.floats(0.0, 1.0, exclude_min=True),
    guidance=st.none() | st.floats(0.0, 30.0),
    seed=st.none() | st.integers(0, 2**32 - 1),
    max_side=st.integers(64, 4096),
    likeness=st.sampled_from(Likeness),
    likeness_strength=st.none() | st.floats(0.0, 2.0, exclude_min=True),
    min_likeness=st.none() | st.floats(0.0, 1.0, exclude_min=True),
    loras=st.lists(
        st.builds(LoraSpec, path=st.just(EXISTING_FILE), weight=st.floats(-4.0, 4.0)),
        max_size=3,
    ).map(tuple),
    device=st.sampled_from(Device),
    memory=st.sampled_from(MemoryMode),
    quantize=st.sampled_from(Quantize),
    compile=st.booleans(),
    previews=st.booleans(),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests)
def test_wire_round_trip_is_exact(request):
    data, image_bytes = request.to_wire()
    data = json.loads(json.dumps(data))  # plain JSON, as it crosses the network
    back = RenderRequest.from_wire(data, image_bytes)
    for name in FIELDS:
        assert getattr(back, name) == getattr(request, name), name
        assert type(getattr(back, name)) is type(getattr(request, name)), name
    assert back.image.size == request.image.size and back.image.mode == "RGB"
    assert np.array_equal(np.asarray(back.image), np.asarray(request.image))


def test_wire_dict_is_versioned_plain_json():
    data, image_bytes = build(quantize="int8", loras=(LoraSpec(EXISTING_FILE, 0.5),)).to_wire()
    assert data["version"] == WIRE_VERSION
    assert data["quantize"] == "int8" and type(data["quantize"]) is str
    assert data["loras"] == [{"path": EXISTING_FILE, "weight": 0.5}]
    # likeness_strength and min_likeness travel only when set (older workers refuse
    # unknown fields); so does backend, only when forced
    assert set(data) == {"version", *FIELDS} - {"likeness_strength", "min_likeness", "backend"}
    assert image_bytes.startswith(b"\x89PNG")


def wire(**changes):
    data, image_bytes = build().to_wire()
    data.update(changes)
    return data, image_bytes


def png_declaring(width: int, height: int) -> bytes:
    """A PNG header claiming a huge image, with next to no pixel data behind it."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    ihdr = struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    return b"\x89PNG\r\n\x1a\n" + ihdr + b"\x00\x00\x00\x00IEND\xaeB`\x82"


@pytest.mark.parametrize(
    ("data", "image_bytes", "field"),
    [
        (["not", "an", "object"], None, "(root)"),
        (wire(version=2)[0], None, "version"),
        ({k: v for k, v in wire()[0].items() if k != "version"}, None, "version"),
        (wire(version=True)[0], None, "version"),
        (wire(priority="high")[0], None, "priority"),
        ({"version": WIRE_VERSION}, None, "style_id"),
        (wire(steps="4")[0], None, "steps"),
        (wire(memory="bogus")[0], None, "memory"),
        (wire(loras={"path": EXISTING_FILE})[0], None, "loras"),
        (wire(loras=[{"path": EXISTING_FILE, "scale": 2}])[0], None, "loras"),
        (wire(loras=[{"path": "/nope.safetensors"}])[0], None, "loras"),
        # no photo is text-to-image, where what only a photo makes meaningful is refused
        (wire(likeness="canny")[0], b"", "likeness"),
        (wire()[0], "not bytes", "image"),
    ],
)
def test_from_wire_refuses_malformed_requests(data, image_bytes, field):
    if image_bytes is None:
        image_bytes = wire()[1]
    assert (
        refused(lambda: RenderRequest.from_wire(data, image_bytes)).error.details["field"] == field
    )


@pytest.mark.parametrize(
    ("image_bytes", "words"),
    [
        (b"#!/bin/sh\necho hi\n", "text file"),
        (b"\x7fELF" + b"\x00" * 60, "ELF"),
        (png_declaring(60000, 60000), "too large"),
        (png_declaring(64, 64), "could not be decoded"),
    ],
)
def test_from_wire_decodes_the_image_through_intake_limits(image_bytes, words):
    error = refused(lambda: RenderRequest.from_wire(wire()[0], image_bytes)).error
    assert words in error.message
    assert error.details["field"] == "image"  # once missing: intake's error named no field


def test_from_wire_accepts_other_image_formats_and_converts_them():
    buffer = io.BytesIO()
    Image.new("RGBA", (64, 64), (255, 0, 0, 0)).save(buffer, "PNG")
    request = RenderRequest.from_wire(wire()[0], buffer.getvalue())
    assert request.image.mode == "RGB"
    assert request.image.getpixel((0, 0)) == (255, 255, 255)  # transparent on white


# -- one result shape ----------------------------------------------------------------


def test_render_parameters_round_trip_through_a_dict():
    params = RenderParameters(
        style="comic",
        backend="diffusion",
        model="sd-turbo",
        seed=3,
        steps=4,
        strength=0.5,
        guidance=1.0,
        family="sd",
        loras=(LoraSpec(EXISTING_FILE, 0.7),),
    )
    data = json.loads(json.dumps(params.to_dict()))
    assert {"style", "seed", "model", "steps", "strength", "guidance"} <= set(data)
    assert RenderParameters.from_dict(data) == params


# -- hostile values found by the outside review ----------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("strength", 10**400),  # once OverflowError: JSON integers can be this long
        ("guidance", -(10**400)),
        ("steps", 10**400),
        ("seed", 10**400),
        ("model", np.array(["sd-turbo", "x"])),  # once "truth value is ambiguous"
        ("loras", (LoraSpec("a" * 300),)),  # once OSError: file name too long
        ("loras", (LoraSpec("/dev/null"),)),  # a device: diffusers took it for a hub id
    ],
    ids=[
        *("huge-strength", "huge-guidance", "huge-steps", "huge-seed", "array-model"),
        *("long-lora", "device-lora"),
    ],
)
def test_hostile_values_are_bad_input_not_raw_exceptions(field, value):
    assert refused(lambda: build(**{field: value})).error.details["field"] == field


def test_an_oversized_lora_weight_is_bad_input():
    assert refused(lambda: LoraSpec(EXISTING_FILE, 10**400)).error.details["field"] == (
        "loras.weight"
    )


def test_whole_number_limits_are_shown_exactly():
    message = refused(lambda: build(seed=-1)).error.message
    assert "from 0 to 4294967295" in message and "e+09" not in message


def test_a_lazily_opened_damaged_file_is_refused_when_the_request_is_built():
    buffer = io.BytesIO()
    photo(256, 256).save(buffer, "JPEG")
    truncated = Image.open(io.BytesIO(buffer.getvalue()[: len(buffer.getvalue()) // 3]))
    error = refused(lambda: build(image=truncated)).error
    assert error.details["field"] == "image" and "decodable" in error.message


def test_from_wire_counts_loras_before_building_them():
    error = refused(
        # each entry is itself invalid: building them first would report "loras.path"
        lambda: RenderRequest.from_wire(*wire(loras=[{"path": ""}] * 100_000))
    ).error
    assert error.details["field"] == "loras" and "at most 8" in error.message


def test_from_wire_refuses_an_integer_too_large_for_a_float():
    data = json.loads(json.dumps(wire()[0]).replace('"strength": null', f'"strength": {10**400}'))
    error = refused(lambda: RenderRequest.from_wire(data, wire()[1])).error
    assert error.details["field"] == "strength"
