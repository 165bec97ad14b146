"""The headless front door: `photoflux` (contract in design.md). No Qt import here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from photoflux_desktop.cli.console import Console
from photoflux_desktop.cli.parser import build_parser
from photoflux_desktop.engine.errors import PhotoFluxError, bad_input
from photoflux_desktop.engine.logging_setup import configure_logging

Command = Callable[[argparse.Namespace, Console], int]


def _commands() -> dict[str, Command]:
    from photoflux_desktop.cli.doctor_cmd import run_doctor
    from photoflux_desktop.cli.gui_cmd import run_gui
    from photoflux_desktop.cli.info_cmds import run_styles, run_verify
    from photoflux_desktop.cli.models_cmd import run_models
    from photoflux_desktop.cli.render_cmd import run_render
    from photoflux_desktop.cli.sync_cmds import run_connect, run_disconnect, run_lead, run_sync

    return {
        "gui": run_gui,
        "render": run_render,
        "styles": run_styles,
        "verify": run_verify,
        "models": run_models,
        "doctor": run_doctor,
        "connect": run_connect,
        "disconnect": run_disconnect,
        "lead": run_lead,
        "sync": run_sync,
    }


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    console = Console(json_mode="--json" in argv)
    try:
        args = build_parser().parse_args(argv)
        configure_logging(args.log_level)
        command = _commands()[args.command or "gui"]
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
