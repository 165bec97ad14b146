"""Deciding a file's type from its bytes, and naming what it is when it is no photo."""

from __future__ import annotations

import filetype

from photoflux_desktop.engine.errors import bad_input

# mime type sniffed from the bytes -> the only Pillow decoder allowed for it
DECODERS: dict[str, str] = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/apng": "PNG",
    "image/tiff": "TIFF",
    "image/webp": "WEBP",
    "image/gif": "GIF",
    "image/bmp": "BMP",
}
_BIGTIFF_MAGIC = (b"II+\x00", b"MM\x00+")
SUPPORTED_TEXT = "JPEG, PNG, TIFF or WebP"
_SNIFF_BYTES = 8192
# a letter whose spoken name starts with a vowel sound: "an F…", "an M…", "an S…"
_VOWEL_SOUND_LETTERS = set("AEFHILMNORSX")
# names said as words that start with a consonant sound despite the letter
_SAID_AS_WORDS = {"HEIC", "HEIF", "FLAC", "RAR", "MIDI", "MOBI", "SQLITE"}


def sniff_decoder(name: str, data: bytes) -> str:
    """The Pillow decoder for `data`, or a BAD_INPUT error that names what it is."""
    head = data[:_SNIFF_BYTES]
    if head[:4] in _BIGTIFF_MAGIC:  # filetype knows classic TIFF only
        return "TIFF"
    kind = filetype.guess(head)
    mime = kind.mime if kind else None
    if mime in DECODERS:
        return DECODERS[mime]
    if mime is None and looks_like_text(head):
        raise bad_input(
            f"{name} is a text file, not an image.", f"Choose a {SUPPORTED_TEXT} photo."
        )
    if kind and mime and mime.startswith("image/"):
        raise bad_input(
            f"{name} is {with_article(kind.extension.upper())} image, "
            "which PhotoFlux cannot read yet.",
            f"Convert it to {SUPPORTED_TEXT} first.",
        )
    what = f"{with_article(kind.extension.upper())} file" if kind else "not a recognisable image"
    raise bad_input(f"{name} is {what}.", f"Choose a {SUPPORTED_TEXT} photo.")


def with_article(word: str) -> str:
    """'a PNG', 'an ICO', 'an MP4', 'a HEIC', 'an 8-bit': the article follows the sound."""
    upper = word.upper()
    if upper[:1].isdigit():  # eight, eleven, eighteen, eighty-…
        number = upper.split("-")[0].split("/")[0]
        spoken_vowel = number.startswith("8") or number in ("11", "18")
        return f"an {word}" if spoken_vowel else f"a {word}"
    if upper in _SAID_AS_WORDS or upper[:1] == "U":
        return f"a {word}"
    return f"an {word}" if upper[:1] in _VOWEL_SOUND_LETTERS else f"a {word}"


def looks_like_text(head: bytes) -> bool:
    """Only printable text is called text: three binary bytes are not "a text file"."""
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the end of the sniffed window is still text
        if exc.start < len(head) - 3:
            return False
        text = head[: exc.start].decode("utf-8")
    visible = "".join(ch for ch in text if ch not in "\t\n\r\f\v")
    return bool(visible.strip()) and visible.isprintable()
