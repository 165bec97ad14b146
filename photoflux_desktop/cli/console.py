"""The CLI's one place for output: JSON mode, human mode, and error rendering.

`--json` prints exactly one JSON object on stdout, success or failure; human mode
prints results on stdout and errors, notes and progress on stderr. No traceback
reaches the user for an expected failure (PhotoFluxError); an unexpected one is
logged as structured JSON and reported in one line.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from photoflux_desktop.engine.errors import Error, ErrorKind
from photoflux_desktop.engine.logging_setup import get_logger

log = get_logger("photoflux.cli")


class Console:
    def __init__(self, json_mode: bool, out: TextIO | None = None, err: TextIO | None = None):
        self.json_mode = json_mode
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self._progress_open = False

    def result(self, payload: dict[str, Any], human: str) -> None:
        if self.json_mode:
            self.out.write(json.dumps({"ok": True, **payload}, default=str) + "\n")
        else:
            self._end_progress()
            self.out.write(human.rstrip("\n") + "\n")
        self.out.flush()

    def note(self, text: str) -> None:
        if not self.json_mode:
            self._end_progress()
            self.err.write(f"note: {text}\n")

    def progress(self, text: str) -> None:
        if self.json_mode:
            return
        if self.err.isatty():
            self.err.write("\r\033[K" + text)
            self._progress_open = True
        else:
            self.err.write(text + "\n")
        self.err.flush()

    def _end_progress(self) -> None:
        if self._progress_open:
            self.err.write("\n")
            self._progress_open = False

    def error(self, error: Error) -> int:
        if self.json_mode:
            self.out.write(json.dumps({"ok": False, "error": error.to_dict()}, default=str) + "\n")
            self.out.flush()
        else:
            self._end_progress()
            prefix = "cancelled" if error.kind is ErrorKind.CANCELLED else "error"
            self.err.write(f"{prefix}: {error.message}\n")
            if error.hint:
                self.err.write(f"  {error.hint}\n")
            self.err.flush()
        return error.kind.exit_code

    def unexpected(self, exc: BaseException) -> int:
        log.error("unexpected_failure", exc_info=exc)
        error = Error(
            ErrorKind.INTERNAL,
            f"PhotoFlux hit an unexpected problem ({type(exc).__name__}: {exc}).",
            "Please report it with the log line above; your input files were not changed.",
        )
        return self.error(error)
