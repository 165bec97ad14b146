"""Debian's Chromium driven by Playwright, launched the way this closed network needs."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    if os.path.exists(CHROMIUM):
        return
    if os.environ.get("PHOTOFLUX_REQUIRE_BROWSER") == "1":
        pytest.fail("Chromium is required here (apt-get install chromium)")
    pytest.skip("Debian's chromium is not installed")
