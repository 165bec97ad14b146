"""scripts/screenshots.py fails when a registered state was not captured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CHILD = r"""
import json, sys
sys.path.insert(0, "scripts")
import screenshots as shots

shots.STATES.clear()
shots.SCENARIOS.clear()

@shots.state("good", themes=("dark",), sizes=((800, 600),))
def good(window):
    window.open_photo(b"not an image")

@shots.state("broken", themes=("light",), sizes=((800, 600),))
def broken(window):
    raise RuntimeError("this state cannot be reached")

code = shots.main([sys.argv[1]])
print(json.dumps({"code": code}))
"""


def test_a_state_that_was_not_captured_fails_the_script(tmp_path):
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"code": 1}, proc.stderr[-2000:]
    assert (tmp_path / "dark-800x600-good.png").is_file()
    assert not (tmp_path / "light-800x600-broken.png").exists()
    assert "NOT CAPTURED (1): light-800x600-broken.png" in proc.stderr
