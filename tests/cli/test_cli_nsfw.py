"""`photoflux render --json` lists the NSFW checks; a flagged render exits 0 with the flag
and writes the blurred image. The detector is swapped the way a user would plug one in:
the settings name a "module:factory" outside PhotoFlux."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from photoflux_desktop.engine.provenance import read_record

PLUGIN = """
from photoflux_desktop.engine.checks.nsfw import Detection

class Flagging:
    def detect(self, image):
        return [Detection("BUTTOCKS_EXPOSED", 0.88, (0, 0, 8, 8))]
"""


def _render(photo: Path, out: Path, env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {**os.environ, **env_extra}
    return subprocess.run(
        [
            *(sys.executable, "-m", "photoflux_desktop", "render", str(photo), "-o", str(out)),
            *("--style", "pencil-sketch", "--model", "instant", "--json"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )


def test_render_json_flags_blurs_and_exits_zero(tmp_path, astronaut_path):
    (tmp_path / "nsfw_plugin.py").write_text(PLUGIN)
    config = Path(os.environ["PHOTOFLUX_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "settings.json").write_text(json.dumps({"nsfw_detector": "nsfw_plugin:Flagging"}))
    path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", ""), os.getcwd()])
    out = tmp_path / "flagged.png"
    proc = _render(astronaut_path, out, {"PYTHONPATH": path})
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    checks = {c["name"]: c for c in payload["checks"]}
    assert checks["nsfw_output"]["passed"] is False
    assert checks["nsfw_output"]["value"] == 0.88
    assert "buttocks exposed" in checks["nsfw_output"]["reason"]
    assert any("blurred" in note for note in payload["result"]["notes"])
    # the file on disk is the blurred one, and its metadata says why
    with Image.open(out) as written:
        top = np.asarray(written.convert("L"), dtype=np.float32)[:150]
    assert float(np.abs(np.diff(top, axis=1)).mean()) < 2.0  # a sketch has far more edges
    assert any(c["name"] == "nsfw_output" and not c["passed"] for c in read_record(out)["checks"])
