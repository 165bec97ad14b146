"""Structural pre-scan: bound the work a file can ask for before Pillow sees it.

Pillow parses JPEG segments, PNG chunks and GIF blocks one Python call at a time, walks
every TIFF page for `n_frames`, and builds one Python object per TIFF strip offset. A
crafted file can therefore cost minutes or gigabytes while holding a 32×32 picture. Each
scanner here walks only up to the first picture under a count limit (cheap offset
arithmetic, no decoding), refuses what no photo needs, and hands Pillow a copy trimmed
to what the first frame needs: no comments, no trailing pages, no chunk confetti.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass

from photoflux_desktop.engine.intake_limits import IntakeLimits, not_supported, too_much_structure
from photoflux_desktop.engine.intake_sniff import with_article
from photoflux_desktop.engine.intake_tiff import scan_tiff


@dataclass(frozen=True)
class Prepared:
    """What Pillow will decode, and what the scan learnt about the whole file."""

    data: bytes
    frames: int = 1
    more_frames: bool = False  # counting stopped at the limit: there are more
    variant: str | None = None  # e.g. "a 16-bit floating-point grey TIFF", for refusals


def prepare(decoder: str, name: str, data: bytes, limits: IntakeLimits) -> Prepared:
    if decoder == "JPEG":
        return _scan_jpeg(name, data, limits)
    if decoder == "PNG":
        return _scan_png(name, data, limits)
    if decoder == "GIF":
        return _scan_gif(name, data, limits)
    if decoder == "TIFF":
        scan = scan_tiff(name, data, limits)
        return Prepared(scan.data, scan.frames, scan.more_frames, scan.variant)
    return Prepared(data)  # WebP (libwebp's demuxer) and BMP have no walkable structure


_FILL = re.compile(rb"\xff+")
_STANDALONE = {0x01, *range(0xD0, 0xD8)}
_SOF = {*range(0xC0, 0xD0)} - {0xC4, 0xC8, 0xCC}
_LOSSLESS = {0xC3, 0xC7, 0xCB, 0xCF}
_PROGRESSIVE = {0xC2, 0xC6, 0xCA, 0xCE}


def _scan_jpeg(name: str, data: bytes, limits: IntakeLimits) -> Prepared:
    """Walk markers up to the first scan; drop comments and junk bytes Pillow would crawl."""
    kept, pos, segments, dropped, progressive = [data[:2]], 2, 0, False, False
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:  # junk between segments: Pillow skips it a byte at a time
            nxt = data.find(b"\xff", pos)
            pos, dropped = (len(data) if nxt < 0 else nxt), True
            segments += 1
        else:
            fill_end = _FILL.match(data, pos).end() - 1  # 0xFF fill bytes before a marker
            pos, dropped = fill_end, dropped or fill_end > pos
            marker = data[pos + 1] if pos + 1 < len(data) else 0xD9
            if marker in {0xDA, 0xD9} or pos + 5 > len(data):
                break  # start of scan (libjpeg does the rest in C) or early end
            if marker in _STANDALONE or marker == 0xD8:
                end = pos + 2
            else:
                end = pos + 2 + struct.unpack_from(">H", data, pos + 2)[0]
            if marker in _SOF:
                _check_jpeg_frame(name, marker, data[pos + 4])
                progressive |= marker in _PROGRESSIVE
            if marker == 0xFE:
                dropped = True
            else:
                kept.append(data[pos:end])
            pos, segments = end, segments + 1
        if segments > limits.max_segments:
            raise too_much_structure(name, f"has more than {limits.max_segments:,} segments")
    # a progressive decode walks every coefficient once per scan: a flood of scans is
    # the JPEG form of unbounded work (encoders write about ten; 0xFFDA cannot occur
    # inside entropy-coded data, so counting the marker bytes is exact enough)
    scans = data.count(b"\xff\xda", pos) if progressive else 0
    if scans > limits.max_scans:
        raise too_much_structure(name, f"has {scans:,} scans")
    if not dropped:
        return Prepared(data)
    kept.append(data[pos:])
    return Prepared(b"".join(kept))


def _check_jpeg_frame(name: str, marker: int, precision: int) -> None:
    if precision != 8:
        raise not_supported(name, with_article(f"{precision}-bit JPEG"))
    if marker in _LOSSLESS:
        raise not_supported(name, "a lossless JPEG")


_PNG_KEEP = {b"IHDR", b"PLTE", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"eXIf", b"iTXt"}


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _scan_png(name: str, data: bytes, limits: IntakeLimits) -> Prepared:
    """Keep the chunks the first frame needs; join its image data into one chunk."""
    kept, idat, pos, chunks, extras = [data[:8]], [], 8, 0, 0
    frames, default_animated, clean = 1, False, False
    while pos + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        chunks += 1
        if chunks > limits.max_chunks:
            raise too_much_structure(name, f"has more than {limits.max_chunks:,} chunks")
        if end > len(data):
            break  # truncated: Pillow will meet the same end and say so
        if kind == b"IDAT":
            idat.append(data[pos + 8 : end - 4])
        elif idat or kind == b"IEND":
            clean = bool(idat)  # the first picture is complete; the rest is not needed
            break
        else:
            extras += 1
            if extras > limits.max_segments:
                raise too_much_structure(
                    name, f"has more than {limits.max_segments:,} chunks before its picture"
                )
            if kind == b"acTL" and length >= 8:
                frames = max(1, struct.unpack_from(">I", data, pos + 8)[0])
            default_animated |= kind == b"fcTL"
            if kind in _PNG_KEEP:
                kept.append(data[pos:end])
        pos = end
    if not clean:
        return Prepared(data)
    if frames > 1 and not default_animated:
        frames += 1  # the default image comes before the animation
    capped = min(frames, limits.max_frames_counted)
    rebuilt = b"".join([*kept, _png_chunk(b"IDAT", b"".join(idat)), _png_chunk(b"IEND", b"")])
    return Prepared(rebuilt, capped, frames > capped)


def _scan_gif(name: str, data: bytes, limits: IntakeLimits) -> Prepared:
    """Count frames (up to the limit) by skipping sub-blocks; never decode them."""
    if len(data) < 13:
        return Prepared(data)
    flags = data[10]
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    frames = blocks = 0
    while pos < len(data) and frames <= limits.max_frames_counted:
        introducer = data[pos]
        if introducer == 0x21:  # extension: label, then sub-blocks
            pos += 2
        elif introducer == 0x2C and pos + 10 <= len(data):  # image: descriptor, LZW size
            frames += 1
            local = data[pos + 9]
            pos += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0) + 1
        else:
            break  # trailer or damage
        while pos < len(data) and data[pos]:  # sub-blocks up to the terminator
            pos += data[pos] + 1
            blocks += 1
        pos += 1
        if blocks > limits.max_chunks:
            if not frames:
                raise too_much_structure(
                    name, f"has more than {limits.max_chunks:,} blocks before its picture"
                )
            break
    counted = max(1, min(frames, limits.max_frames_counted))
    return Prepared(data, counted, frames > counted or blocks > limits.max_chunks)
