"""TIFF pre-scan: read the first page's header, refuse impossible tables, cut the page chain.

Only the first IFD is parsed (its entries, not their pixel data). Strip and tile tables
are checked against what the declared size can need before Pillow turns them into one
Python object per entry, and the copy handed to Pillow ends after the first page, so
neither Pillow nor libtiff can walk a chain of 100,000 pages.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from photoflux_desktop.engine.intake_limits import (
    IntakeLimits,
    check_dimensions,
    too_much_structure,
)
from photoflux_desktop.engine.intake_sniff import with_article

# TIFF field type -> bytes per value (BYTE, ASCII, SHORT, LONG, RATIONAL, ..., IFD8)
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
_TYPE_SIZES |= {13: 4, 16: 8, 17: 8, 18: 8}
_BLOB_TYPES = {1, 2, 6, 7}  # Pillow keeps these as one bytes object, not a tuple
_UNPACK = {1: "B", 3: "H", 4: "I", 16: "Q"}
_TABLES = {273, 279, 324, 325}  # strip/tile tables: checked against the picture's size
_MAX_ENTRIES = 4096  # real IFDs hold tens; BigTIFF allows 2**64
_COLOUR = {0: "grey", 1: "grey", 2: "RGB", 3: "palette", 5: "CMYK", 6: "YCbCr", 8: "Lab"}
_SAMPLE_KIND = {2: "signed ", 3: "floating-point "}


@dataclass(frozen=True)
class TiffScan:
    data: bytes
    frames: int = 1
    more_frames: bool = False
    variant: str | None = None


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.order = "<" if data[:2] == b"II" else ">"
        self.big = struct.unpack_from(self.order + "H", data, 2)[0] == 43
        self.offset = "Q" if self.big else "I"

    def unpack(self, fmt: str, at: int) -> tuple:
        return struct.unpack_from(self.order + fmt, self.data, at)

    def ifd_layout(self, at: int) -> tuple[int, int, int]:
        """(entry count, first entry offset, entry size) of the IFD at `at`."""
        if self.big:
            return self.unpack("Q", at)[0], at + 8, 20
        return self.unpack("H", at)[0], at + 2, 12

    def next_pointer_at(self, at: int) -> int:
        count, first, size = self.ifd_layout(at)
        return first + count * size


def scan_tiff(name: str, data: bytes, limits: IntakeLimits) -> TiffScan:
    try:
        reader = _Reader(data)
        first = reader.unpack(reader.offset, 8 if reader.big else 4)[0]
        entries = _read_entries(reader, first, name, limits)
        next_at = reader.next_pointer_at(first)
        next_ifd = reader.unpack(reader.offset, next_at)[0]
        values = {tag: _values(reader, *entry) for tag, entry in entries.items() if entry[1] <= 16}
    except struct.error:
        return TiffScan(data)  # damaged header: Pillow reaches the same end and says so
    width, height = _first(values, 256), _first(values, 257)
    check_dimensions(name, (width, height), limits)
    _check_tables(name, entries, values, width, height)
    frames, more = _count_pages(reader, first, limits)
    trimmed = data
    if next_ifd:
        cut = bytearray(data)
        struct.pack_into(reader.order + reader.offset, cut, next_at, 0)
        trimmed = bytes(cut)
    variant = None if _common_layout(values) else _describe(values)
    return TiffScan(trimmed, frames, more, variant)


def _read_entries(
    reader: _Reader, at: int, name: str, limits: IntakeLimits
) -> dict[int, tuple[int, int, int]]:
    """tag -> (type, count, offset of the value field), refusing absurd counts early."""
    count, first, size = reader.ifd_layout(at)
    if count > _MAX_ENTRIES:
        raise too_much_structure(name, f"declares {count:,} tags on its first page")
    entries = {}
    for i in range(count):
        tag, kind, n = reader.unpack("HH" + reader.offset, first + i * size)
        numeric = kind in _TYPE_SIZES and kind not in _BLOB_TYPES and tag not in _TABLES
        if numeric and n > limits.max_tag_values:
            raise too_much_structure(name, f"declares {n:,} values in one tag")
        entries[tag] = (kind, n, first + i * size + (4 + (8 if reader.big else 4)))
    return entries


def _values(reader: _Reader, kind: int, count: int, field: int) -> tuple[int, ...]:
    code = _UNPACK.get(kind)
    if code is None or count == 0:
        return ()
    width = _TYPE_SIZES[kind] * count
    try:
        at = field if width <= (8 if reader.big else 4) else reader.unpack(reader.offset, field)[0]
        return reader.unpack(f"{count}{code}", at)
    except struct.error:  # a value outside the file: Pillow decides whether that matters
        return ()


def _first(values: dict[int, tuple[int, ...]], tag: int, default: int = 0) -> int:
    found = values.get(tag)
    return found[0] if found else default


def _check_tables(
    name: str,
    entries: dict[int, tuple[int, int, int]],
    values: dict[int, tuple[int, ...]],
    width: int,
    height: int,
) -> None:
    """A strip or tile table longer than the declared size can use is never a photo's."""
    planes = _first(values, 277, 1) if _first(values, 284, 1) == 2 else 1
    rows = max(1, _first(values, 278, height) or height)
    needed = {273: math.ceil(height / rows) * planes, 279: math.ceil(height / rows) * planes}
    tile_w, tile_h = _first(values, 322), _first(values, 323)
    if tile_w and tile_h:
        tiles = math.ceil(width / tile_w) * math.ceil(height / tile_h) * planes
        needed |= {324: tiles, 325: tiles}
    for tag, need in needed.items():
        declared = entries.get(tag, (0, 0, 0))[1]
        if declared > need:
            what = "strips" if tag in (273, 279) else "tiles"
            raise too_much_structure(
                name, f"declares {declared:,} {what} for a {width}×{height} picture"
            )


def _count_pages(reader: _Reader, first: int, limits: IntakeLimits) -> tuple[int, bool]:
    """Pages up to the counting limit, following next-IFD pointers only (loops stop it)."""
    seen, at = set(), first
    while at and at not in seen and len(seen) < limits.max_frames_counted:
        seen.add(at)
        try:
            at = reader.unpack(reader.offset, reader.next_pointer_at(at))[0]
        except struct.error:
            break
    more = bool(at) and at not in seen and len(seen) >= limits.max_frames_counted
    return max(1, len(seen)), more


def _common_layout(values: dict[int, tuple[int, ...]]) -> bool:
    """Sample layouts Pillow decodes; a failure on one of these means damage, not a variant."""
    bits = set(values.get(258, (1,)))
    sample_format = _first(values, 339, 1)
    samples = _first(values, 277, 1)
    if samples == 2 and 338 not in values:
        return False  # grey plus an undeclared second channel
    if sample_format == 1:
        return bits <= {1, 2, 4, 8, 16}
    return samples == 1 and bits <= {16, 32} and (sample_format == 2 or bits == {32})


def _describe(values: dict[int, tuple[int, ...]]) -> str:
    """'a 16-bit floating-point grey TIFF': named in the refusal when Pillow cannot read it."""
    bits = sorted(set(values.get(258, (1,))))
    depth = "/".join(str(b) for b in bits)
    kind = _SAMPLE_KIND.get(_first(values, 339, 1), "")
    colour = _COLOUR.get(_first(values, 262, -1), "colour")
    samples = _first(values, 277, 1)
    extra = f" with {samples} channels" if colour == "grey" and samples > 1 else ""
    return with_article(f"{depth}-bit {kind}{colour} TIFF{extra}")
