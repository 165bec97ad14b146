"""Reading a photo's bytes: regular files only, never more than the size limit.

A path can name a FIFO (open blocks until a writer appears), a device like /dev/zero
(endless) or a file that grows while we read; the size on disk says nothing for those.
So the file is opened without blocking, checked with fstat, and read up to limit + 1.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from photoflux_desktop.engine.errors import bad_input
from photoflux_desktop.engine.intake_limits import IntakeLimits, file_too_big

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def read_source(source: str | Path | bytes, limits: IntakeLimits) -> tuple[str, bytes]:
    """The display name and the bytes of `source`, or a BAD_INPUT error."""
    if isinstance(source, bytes | bytearray):
        name, data = "The image", bytes(source)
        if len(data) > limits.max_file_bytes:
            raise file_too_big(name, len(data), limits)
    else:
        path = Path(source)
        name = path.name or str(path)
        data = _read_file(path, name, limits)
    if not data:
        raise bad_input(f"{name} is empty (0 bytes).", "Choose a photo file with content.")
    return name, data


def _read_file(path: Path, name: str, limits: IntakeLimits) -> bytes:
    try:
        if path.is_dir():  # before open: Windows cannot open a folder at all
            raise bad_input(f"{path} is a folder, not a photo.", "Pass the path of one image file.")
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError as exc:
        raise bad_input(f"{path} does not exist.", "Check the path and try again.") from exc
    except PermissionError as exc:
        raise bad_input(
            f"{path} cannot be read (permission denied).", "Check the file's permissions."
        ) from exc
    except OSError as exc:
        raise bad_input(f"{path} cannot be read: {exc.strerror or exc}.") from exc
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise bad_input(
                f"{path} is {_special_kind(info.st_mode)}, not a photo file.",
                "Save the photo to a file and pass that file's path.",
            )
        if info.st_size > limits.max_file_bytes:
            raise file_too_big(name, info.st_size, limits)
        try:
            data = file.read(limits.max_file_bytes + 1)
        except OSError as exc:
            raise bad_input(f"{path} cannot be read: {exc.strerror or exc}.") from exc
    if len(data) > limits.max_file_bytes:  # it grew after fstat
        raise file_too_big(name, len(data), limits)
    return data


def _special_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"
