"""One typed error value for everything the engine can refuse or fail at.

Front ends (CLI, desktop, cloud worker) render `Error` in one place each; the kind
decides the CLI exit code (design.md) and the hint tells the user what to do next.
"""

from __future__ import annotations

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

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "message": self.message,
            "hint": self.hint,
            "details": self.details,
        }

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class PhotoFluxError(Exception):
    """Carries an `Error` value across call frames; catch it at the front end."""

    def __init__(self, error: Error) -> None:
        super().__init__(str(error))
        self.error = error


def bad_input(message: str, hint: str = "", **details: Any) -> PhotoFluxError:
    return PhotoFluxError(Error(ErrorKind.BAD_INPUT, message, hint, details))


def model_missing(message: str, hint: str = "", **details: Any) -> PhotoFluxError:
    return PhotoFluxError(Error(ErrorKind.MODEL_MISSING, message, hint, details))


def out_of_memory(message: str, hint: str = "", **details: Any) -> PhotoFluxError:
    return PhotoFluxError(Error(ErrorKind.OUT_OF_MEMORY, message, hint, details))


def cloud_error(message: str, hint: str = "", **details: Any) -> PhotoFluxError:
    return PhotoFluxError(Error(ErrorKind.CLOUD, message, hint, details))


def cancelled(message: str = "Cancelled.") -> PhotoFluxError:
    """For front ends (the CLI's exit 130); renderers return a CANCELLED result instead."""
    return PhotoFluxError(Error(ErrorKind.CANCELLED, message))
