"""`photoflux gui [PHOTO]` and bare `photoflux`: the desktop app; `--kiosk`: event mode."""

from __future__ import annotations

import argparse
import importlib.util
import os

from photoflux_desktop.cli.console import Console
from photoflux_desktop.engine.errors import bad_input
from photoflux_desktop.engine.qt_libs import check_qt_libs, needs_xcb


def run_gui(args: argparse.Namespace, console: Console) -> int:
    if importlib.util.find_spec("PySide6") is None:
        raise bad_input(
            "The desktop app needs PySide6, which is not installed.",
            "Install the desktop extra (`pip install photoflux[desktop]`), or use "
            "`photoflux render PHOTO -o OUT.png --style ID`.",
        )
    _check_system_libraries()
    if getattr(args, "kiosk", False):
        return _run_kiosk(args)
    # the photo is checked by the window itself, which shows a clear inline error
    from photoflux_desktop.ui.app import run_app

    return run_app(args.photo)


def _run_kiosk(args: argparse.Namespace) -> int:
    if args.photo:
        raise bad_input(
            "Kiosk mode takes no photo: guests take theirs with the camera.",
            "Run `photoflux gui --kiosk` without a photo.",
        )
    from photoflux_desktop.ui.kiosk.launch import run_kiosk

    if run_kiosk() == 2:
        raise bad_input(
            "Kiosk mode needs an operator PIN, and none was set.",
            "Start kiosk mode again and choose a PIN in its setup.",
        )
    return 0


def _check_system_libraries() -> None:
    """Qt aborts the whole process (exit 134) naming the wrong library when one of its
    X11 plugin's libraries is missing: find out first and say what to install."""
    if not needs_xcb(dict(os.environ)):
        return
    report = check_qt_libs()
    if report.checked and not report.ok:
        raise bad_input(
            "The desktop app cannot start: system libraries Qt needs are missing: "
            + ", ".join(report.missing)
            + ".",
            f"Install them with `{report.install_command}` (or run scripts/bootstrap.sh as "
            "root), then start PhotoFlux again.",
            missing=list(report.missing),
            install_command=report.install_command,
        )
