"""`photoflux gui --kiosk` on the command line (the GUI itself is tested in tests/ui)."""

from __future__ import annotations

import os
import subprocess
import sys


def _photoflux(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "photoflux_desktop", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )


def test_kiosk_is_in_the_help_and_refuses_a_photo(tmp_path):
    helped = _photoflux("gui", "--help")
    assert helped.returncode == 0 and "--kiosk" in helped.stdout
    refused = _photoflux("gui", "--kiosk", str(tmp_path / "guest.jpg"))
    assert refused.returncode == 2
    assert "Kiosk mode takes no photo" in refused.stderr
    assert "Traceback" not in refused.stderr
