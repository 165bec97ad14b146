"""`photoflux gui [PHOTO]` and bare `photoflux`: the desktop app."""

from __future__ import annotations

import argparse
import importlib.util

from photoflux_desktop.cli.console import Console
from photoflux_desktop.engine.errors import bad_input


def run_gui(args: argparse.Namespace, console: Console) -> int:
    if importlib.util.find_spec("photoflux_desktop.ui.app") is None:
        raise bad_input(
            "The desktop window is not part of this build yet.",
            "Use `photoflux render PHOTO -o OUT.png --style ID` (styles: `photoflux styles`).",
        )
    from photoflux_desktop.ui.app import run_app  # pragma: no cover - arrives with the UI

    return run_app(args.photo)  # pragma: no cover
