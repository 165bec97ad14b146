"""A whole instant render, start to written file, never loads the diffusion stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("torch", "diffusers", "transformers", "accelerate", "imwatermark")

# Runs the real `photoflux render` entry point, then reports which heavy modules it loaded.
_PROBE = """
import json, sys
from photoflux_desktop.cli import main
code = main(sys.argv[1:])
heavy = [name for name in {heavy!r} if name in sys.modules]
print(json.dumps({{"probe_code": code, "heavy": heavy}}))
"""


@pytest.mark.parametrize("model", [["--model", "instant"], []], ids=["instant", "no-model"])
def test_an_instant_render_never_imports_torch(tmp_path, astronaut_path, model):
    out = tmp_path / "out.png"
    argv = ["render", str(astronaut_path), "-o", str(out), "--style", "comic", *model, "--json"]
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY), *argv],
        capture_output=True,
        text=True,
        env=os.environ.copy(),  # private user folders: no model is installed
        timeout=120,
        check=False,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    render, probe = lines[0], lines[-1]
    assert probe["probe_code"] == 0, proc.stderr
    assert render["result"]["backend"] == "instant"
    assert render["output"]["invisible_watermark"]["detected"]
    assert probe["heavy"] == []
