"""Structured logs (structlog, JSON lines on stderr) shared by every front end.

structlog (with its dev and traceback helpers) costs ~0.4 s to import on a busy 2-core
machine, which the desktop window would pay before it shows. So `get_logger` hands out
a small proxy and structlog is imported, and configured, on the first log call.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from structlog.typing import FilteringBoundLogger


class _StderrLogger:
    """Writes to whatever sys.stderr is *now* (tests and GUIs swap it at run time)."""

    def msg(self, message: str) -> None:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()

    debug = info = warning = warn = error = critical = exception = fatal = msg


def _stderr_logger(*args: object) -> _StderrLogger:
    return _StderrLogger()


def configure_logging(level: str = "WARNING") -> None:
    import structlog

    numeric = getattr(logging, level.upper(), logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            # frames without local variables: they can hold prompts, paths or e-mails
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False, max_frames=20)
            ),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )


class _LazyLogger:
    """Stands in for a structlog logger until the first call (`log.warning(...)`)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._logger: Any = None

    def __getattr__(self, attr: str) -> Any:
        if self._logger is None:
            import structlog

            if not structlog.is_configured():
                configure_logging()  # library use: quiet JSON by default
            # not cached by structlog: a later configure_logging still applies
            self._logger = structlog.get_logger(self._name)
        return getattr(self._logger, attr)


def get_logger(name: str) -> FilteringBoundLogger:
    return _LazyLogger(name)  # type: ignore[return-value]
