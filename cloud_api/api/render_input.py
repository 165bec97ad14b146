"""The API's one door into the engine: checking an uploaded photo and a render request.

The service must stay light (no torch, diffusers or cv2: an import-linter contract and
tests/cloud/test_render_api.py check it), so this module uses only the engine's intake
(Pillow and `filetype`) and its request type; pyproject's `ignore_imports` names exactly
these edges. The photo is decoded and re-encoded as PNG, so no byte a client sent is
ever stored or served back.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from cloud_api.core.errors import ApiError
from photoflux_desktop.engine.intake import IntakeLimits, PhotoFluxError, load_photo
from photoflux_desktop.engine.intake_sniff import DECODERS, sniff_decoder
from photoflux_desktop.engine.request import RenderRequest

_SNIFF_BYTES = 8192
# a catalog id or "instant": never a path, since a cloud worker must not open files a
# client chose (the engine takes a folder path too, for the desktop)
_MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class CleanPhoto:
    png: bytes
    width: int
    height: int


def clean_upload(data: bytes, max_bytes: int, max_pixels: int) -> CleanPhoto:
    """The photo in `data`, decoded by intake and re-encoded as PNG; ApiError otherwise:
    413 too large, 415 not an image type PhotoFlux reads, 422 unreadable or too many
    pixels."""
    if len(data) > max_bytes:
        raise ApiError(413, f"the photo is larger than {max_bytes} bytes; send a smaller one")
    try:
        sniff_decoder("The upload", data[:_SNIFF_BYTES])
    except PhotoFluxError as exc:
        raise ApiError(415, _say(exc)) from exc
    limits = IntakeLimits(max_file_bytes=max_bytes, max_pixels=max_pixels)
    try:
        photo = load_photo(data, max_side=None, limits=limits)
    except PhotoFluxError as exc:
        raise ApiError(422, _say(exc)) from exc
    buffer = io.BytesIO()
    photo.image.save(buffer, format="PNG", compress_level=3)
    width, height = photo.image.size
    return CleanPhoto(buffer.getvalue(), width, height)


def check_request(wire: dict[str, Any], png: bytes) -> None:
    """Checks `wire` exactly as a worker will rebuild it (engine.request_wire), plus the
    cloud's own rules: catalog models only, no LoRA files. ApiError(422) says why."""
    model = wire.get("model")
    if isinstance(model, str) and model and not _MODEL_ID.match(model):
        raise ApiError(422, "model: the cloud renders catalog models only, not a folder path")
    if wire.get("loras"):
        raise ApiError(422, "loras: LoRA files stay on the desktop; cloud renders run without")
    try:
        RenderRequest.from_wire(wire, png)
    except PhotoFluxError as exc:
        raise ApiError(422, _say(exc)) from exc


def accepted_types() -> list[str]:
    return sorted(DECODERS)


def _say(exc: PhotoFluxError) -> str:
    error = exc.error
    field = error.details.get("field")
    text = f"{field}: {error.message}" if field and field != "image" else error.message
    return f"{text} {error.hint}".strip() if error.hint else text
