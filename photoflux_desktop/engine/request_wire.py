"""`RenderRequest` on the wire: a plain JSON-able dict plus PNG image bytes.

The dict carries a version; a reader refuses versions it does not know, keys it does
not know and values of the wrong JSON type, then builds the request through its
constructor, so a received request is checked exactly like a local one. The image
is decoded by intake (type sniffed from the bytes, size limits before decoding).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from photoflux_desktop.engine.errors import PhotoFluxError, bad_input
from photoflux_desktop.engine.intake import load_photo

if TYPE_CHECKING:
    from photoflux_desktop.engine.request import RenderRequest

# every wire key but "version" is one request field, under the same name
_FIELDS = (
    "style_id",
    "prompt",
    "negative_prompt",
    "model",
    "steps",
    "strength",
    "guidance",
    "seed",
    "max_side",
    "likeness",
    "likeness_strength",
    "min_likeness",
    "loras",
    "device",
    "backend",
    "memory",
    "quantize",
    "compile",
    "previews",
    "width",
    "height",
    "fast_vae",
)
# sent only when set, so a worker from before them still takes the rest
_OPTIONAL = ("likeness_strength", "min_likeness", "width", "height")
_LORA_KEYS = {"path", "weight"}


def request_to_wire(request: RenderRequest) -> tuple[dict[str, Any], bytes]:
    from photoflux_desktop.engine.request import WIRE_VERSION

    data: dict[str, Any] = {"version": WIRE_VERSION}
    for name in _FIELDS:
        value = getattr(request, name)
        if name in _OPTIONAL and value is None:
            continue
        if name == "fast_vae" and not value:
            continue  # likewise: only an asked-for fast autoencoder travels
        if name == "backend" and value == "auto":
            continue  # likewise: only a forced backend travels
        if name == "loras":
            value = [lora.to_dict() for lora in value]
        elif hasattr(value, "value"):  # StrEnum -> its plain string
            value = value.value
        data[name] = value
    if request.image is None:
        return data, b""  # text-to-image: no photo travels
    buffer = io.BytesIO()
    request.image.save(buffer, format="PNG", compress_level=1)  # lossless, quick
    return data, buffer.getvalue()


def request_from_wire(cls: type[RenderRequest], data: Any, image_bytes: Any) -> RenderRequest:
    from photoflux_desktop.engine.request import WIRE_VERSION, LoraSpec

    if not isinstance(data, dict):
        raise bad_input("A render request must be a JSON object.", field="(root)")
    version = data.get("version")
    if version != WIRE_VERSION or isinstance(version, bool):
        raise bad_input(
            f"version must be {WIRE_VERSION}; got {version!r}.",
            "The sender and this engine speak different request versions; update the older one.",
            field="version",
        )
    unknown = sorted(str(key) for key in data if key != "version" and key not in _FIELDS)
    if unknown:
        raise bad_input(
            f"Unknown request field(s): {', '.join(unknown)}.",
            f"Known fields: version, {', '.join(_FIELDS)}.",
            field=unknown[0],
        )
    if "style_id" not in data:
        raise bad_input("style_id is required.", field="style_id")
    if not isinstance(image_bytes, bytes | bytearray):
        raise bad_input("image must be image bytes (empty for text-to-image).", field="image")
    fields = {name: data[name] for name in _FIELDS if name in data}
    if "loras" in fields:
        fields["loras"] = _loras(fields["loras"], LoraSpec)
    if not image_bytes:
        return cls(image=None, **fields)
    try:
        photo = load_photo(bytes(image_bytes), max_side=None)
    except PhotoFluxError as exc:  # intake's words, and the field a sender must fix
        error = exc.error
        raise bad_input(error.message, error.hint, **{**error.details, "field": "image"}) from exc
    return cls(image=photo.image, **fields)


def _loras(value: Any, spec_type: type) -> tuple[Any, ...]:
    from photoflux_desktop.engine.request_checks import MAX_LORAS

    if not isinstance(value, list):
        raise bad_input(
            "loras must be a list of {path, weight} objects.", field="loras", allowed="list"
        )
    if len(value) > MAX_LORAS:  # before building any: a million entries took seconds
        raise bad_input(
            f"loras must list at most {MAX_LORAS} adapters; got {len(value)}.",
            field="loras",
            allowed="list",
        )
    specs = []
    for item in value:
        if not isinstance(item, dict) or not set(item) <= _LORA_KEYS or "path" not in item:
            raise bad_input(
                "loras must be a list of {path, weight} objects.", field="loras", allowed="list"
            )
        specs.append(spec_type(item["path"], item.get("weight", 1.0)))
    return tuple(specs)
