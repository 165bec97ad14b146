"""Time to a visible window: a bare PySide6 window against PhotoFlux's main window
(its frame paints first, then it assembles its parts: both times are reported).

Each run is a fresh Python process; the clock starts when the parent spawns it, so
interpreter start-up and every import are included. The
bare window (QApplication + QWidget, nothing else) is the floor on this machine; the
figure that matters is the ratio, which stays comparable on a loaded or a fast box.
Runs alternate bare/app so background load hits both alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = 7
TARGET_RATIO = 3.0

_CLOCK = r"""
import os, sys, time, json
started = float(os.environ["PHOTOFLUX_BENCH_LAUNCHED"])  # wall clock when the parent spawned us
"""

BARE = (
    _CLOCK
    + r"""
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
w = QWidget()
w.resize(1280, 820)
w.show()
def report():
    print(json.dumps({"shown_s": time.time() - started}))
    app.quit()
QTimer.singleShot(0, report)
app.exec()
"""
)

APP = (
    _CLOCK
    + r"""
from photoflux_desktop.ui.app import create_app, create_window
app = create_app()
window = create_window()
figures = {}
def shown():
    figures.update({"shown_s": time.time() - started,
                    "torch_loaded_at_show": "torch" in sys.modules,
                    "diffusers_loaded_at_show": "diffusers" in sys.modules,
                    "modules_at_show": len(sys.modules)})
def ready():
    figures["ready_s"] = time.time() - started
    print(json.dumps(figures))
    app.quit()
window.firstShown.connect(shown)
window.ready.connect(ready)
app.exec()
"""
)


def _once(code: str, env: dict[str, str]) -> dict:
    env = {**env, "PHOTOFLUX_BENCH_LAUNCHED": repr(time.time())}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    bare, app = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("DATA", "CONFIG", "CACHE"):
            env[f"PHOTOFLUX_{name}_DIR"] = os.path.join(tmp, name.lower())
        _once(BARE, env)  # warm the OS file cache for both
        _once(APP, env)
        for _ in range(RUNS):
            bare.append(_once(BARE, env)["shown_s"])
            app.append(_once(APP, env))
    app_s = [run["shown_s"] for run in app]
    bare_median, app_median = statistics.median(bare), statistics.median(app_s)
    sys.stdout.write(
        json.dumps(
            {
                "benchmark": "ui_startup",
                "platform": env["QT_QPA_PLATFORM"],
                "cpus": os.cpu_count(),
                "runs": RUNS,
                "bare_window_median_s": round(bare_median, 3),
                "app_window_median_s": round(app_median, 3),
                "app_window_max_s": round(max(app_s), 3),
                "ratio": round(app_median / bare_median, 2),
                # the frame paints first; every part (styles, library, panels) is there at
                # "ready", assembled on the GUI thread right after the first paint
                "app_ready_median_s": round(statistics.median(r["ready_s"] for r in app), 3),
                "target_ratio": TARGET_RATIO,
                "modules_at_show": app[-1]["modules_at_show"],
                "torch_loaded_at_show": any(run["torch_loaded_at_show"] for run in app),
                "diffusers_loaded_at_show": any(run["diffusers_loaded_at_show"] for run in app),
            }
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
