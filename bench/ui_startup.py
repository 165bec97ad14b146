"""Time from process start to the main window shown (first paint), over several runs.

Each run is a fresh Python process; the clock starts at the process's creation time
as the OS records it, so interpreter start-up and every import are included.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile

RUNS = 5
CHILD = r"""
import os, sys, time, json
import psutil
started = psutil.Process().create_time()
from photoflux_desktop.ui.app import create_app, create_window
app = create_app()
window = create_window()
def report():
    print(json.dumps({"shown_s": time.time() - started,
                      "torch_loaded_at_show": "torch" in sys.modules,
                      "diffusers_loaded_at_show": "diffusers" in sys.modules}))
    app.quit()
window.firstShown.connect(report)
app.exec()
"""


def main() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("DATA", "CONFIG", "CACHE"):
            env[f"PHOTOFLUX_{name}_DIR"] = os.path.join(tmp, name.lower())
        for _ in range(RUNS):
            out = subprocess.run(
                [sys.executable, "-c", CHILD],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            ).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
    shown = [run["shown_s"] for run in runs]
    sys.stdout.write(
        json.dumps(
            {
                "benchmark": "ui_startup",
                "platform": env["QT_QPA_PLATFORM"],
                "runs": RUNS,
                "window_shown_median_s": round(statistics.median(shown), 3),
                "window_shown_max_s": round(max(shown), 3),
                "torch_loaded_at_show": any(run["torch_loaded_at_show"] for run in runs),
                "diffusers_loaded_at_show": any(run["diffusers_loaded_at_show"] for run in runs),
                "target_s": 1.5,
            }
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
