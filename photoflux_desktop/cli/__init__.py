"""The headless front door: `photoflux` (contract in design.md). No Qt import here."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from photoflux_desktop.cli.console import Console
from photoflux_desktop.cli.parser import build_parser
from photoflux_desktop.engine.errors import PhotoFluxError, bad_input
from photoflux_desktop.engine.logging_setup import configure_logging

Command = Callable[[argparse.Namespace, Console], int]


# Each command's module is imported only when that command runs: `render` must not pay
# for what `doctor` or `models` import (whole-process time of an instant render).
_COMMANDS = {
    "gui": ("gui_cmd", "run_gui"),
    "render": ("render_cmd", "run_render"),
    "generate": ("render_cmd", "run_generate"),
    "styles": ("info_cmds", "run_styles"),
    "verify": ("info_cmds", "run_verify"),
    "check": ("check_cmd", "run_check"),
    "audit": ("audit_cmd", "run_audit_cmd"),
    "models": ("models_cmd", "run_models"),
    "doctor": ("doctor_cmd", "run_doctor"),
    "connect": ("sync_cmds", "run_connect"),
    "disconnect": ("sync_cmds", "run_disconnect"),
    "lead": ("sync_cmds", "run_lead"),
    "sync": ("sync_cmds", "run_sync"),
    "train": ("train_cmd", "run_train"),
    "adapters": ("train_cmd", "run_adapters"),
}


def _command(name: str) -> Command:
    module, function = _COMMANDS[name]
    return getattr(importlib.import_module(f"photoflux_desktop.cli.{module}"), function)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    console = Console(json_mode="--json" in argv)
    try:
        args = build_parser().parse_args(argv)
        configure_logging(args.log_level)
        command = _command(args.command or "gui")
        if args.command is None:
            args.photo = None
        return command(args, console)
    except PhotoFluxError as exc:
        return console.error(exc.error)
    except KeyboardInterrupt:
        from photoflux_desktop.engine.errors import cancelled

        return console.error(cancelled().error)
    except SystemExit as exc:  # --help and --version
        return int(exc.code or 0)
    except Exception as exc:  # the last line of defence: one line, a log record, no traceback
        return console.unexpected(exc)


__all__ = ["bad_input", "main"]
