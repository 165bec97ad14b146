"""`photoflux gui [PHOTO]` and bare `photoflux`: the desktop app."""

from __future__ import annotations

import argparse
import importlib.util

from photoflux_desktop.cli.console import Console
from photoflux_desktop.engine.errors import bad_input


def run_gui(args: argparse.Namespace, console: Console) -> int:
    if importlib.util.find_spec("PySide6") is None:
        raise bad_input(
            "The desktop app needs PySide6, which is not installed.",
            "Install the desktop extra (`pip install photoflux[desktop]`), or use "
            "`photoflux render PHOTO -o OUT.png --style ID`.",
        )
    # the photo is checked by the window itself, which shows a clear inline error
    from photoflux_desktop.ui.app import run_app

    return run_app(args.photo)
