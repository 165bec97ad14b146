"""One typed error value for everything the engine can refuse or fail at.

Front ends (CLI, desktop, cloud worker) render `Error` in one place each; the kind
decides the CLI exit code (design.md) and the hint tells the user what to do next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ErrorKind(StrEnum):
    BAD_INPUT = "bad_input"
    MODEL_MISSING = "model_missing"
    OUT_OF_MEMORY = "out_of_memory"
    CLOUD = "cloud"
    CANCELLED = "cancelled"
    INTERNAL = "internal"

    @property
    def exit_code(self) -> int:
        return _EXIT_CODES[self]


_EXIT_CODES = {
    ErrorKind.BAD_INPUT: 2,
    ErrorKind.MODEL_MISSING: 3,
    ErrorKind.OUT_OF_MEMORY: 4,
    ErrorKind.CLOUD: 5,
    ErrorKind.CANCELLED: 130,
    ErrorKind.INTERNAL: 1,
}


@dataclass(frozen=True)
class Error:
    kind: ErrorKind
    message: str
    hint: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    # the hint for a window, where a terminal command means nothing; "" = `hint` is fine
    gui_hint: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "message": self.message,
            "hint": self.hint,
            "details": self.details,
        }

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()

    def hint_for_gui(self) -> str:
        """What to do, in words a window can show: never a command, flag or variable."""
        return self.gui_hint or for_gui(self.hint)


# `photoflux models`, --max-side, HF_HUB_OFFLINE: the vocabulary of a terminal
_CLI_WORDS = re.compile(r"`|(^|\s)--?[a-z]|\bphotoflux [a-z]|\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b")


def speaks_cli(text: str) -> bool:
    return bool(_CLI_WORDS.search(text))


def for_gui(text: str) -> str:
    """`text` without its sentences that speak terminal (a note's CLI advice, say)."""
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    return " ".join(s for s in sentences if s and not speaks_cli(s))


class PhotoFluxError(Exception):
    """Carries an `Error` value across call frames; catch it at the front end."""

    def __init__(self, error: Error) -> None:
        super().__init__(str(error))
        self.error = error


def bad_input(
    message: str, hint: str = "", *, gui_hint: str = "", **details: Any
) -> PhotoFluxError:
    return PhotoFluxError(Error(ErrorKind.BAD_INPUT, message, hint, details, gui_hint))


def model_missing(
    message: str, hint: str = "", *, gui_hint: str = "", **details: Any
) -> PhotoFluxError:
    return PhotoFluxError(Error(ErrorKind.MODEL_MISSING, message, hint, details, gui_hint))


def out_of_memory(
    message: str, hint: str = "", *, gui_hint: str = "", **details: Any
) -> PhotoFluxError:
    return PhotoFluxError(Error(ErrorKind.OUT_OF_MEMORY, message, hint, details, gui_hint))


def cloud_error(
    message: str, hint: str = "", *, gui_hint: str = "", **details: Any
) -> PhotoFluxError:
    return PhotoFluxError(Error(ErrorKind.CLOUD, message, hint, details, gui_hint))


def cancelled(message: str = "Cancelled.") -> PhotoFluxError:
    """For front ends (the CLI's exit 130); renderers return a CANCELLED result instead."""
    return PhotoFluxError(Error(ErrorKind.CANCELLED, message))
