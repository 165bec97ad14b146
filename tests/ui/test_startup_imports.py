"""The window starts without the heavy stack: torch, diffusers, transformers and OpenCV
load only when a render needs them. Checked in a fresh process, since this test session
has long imported all of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "diffusers", "transformers", "cv2")

CHILD = r"""
import json, sys
from pathlib import Path
from PySide6.QtCore import QEventLoop, QTimer
from photoflux_desktop.engine.resources import sample_photo
from photoflux_desktop.ui.app import create_app
from photoflux_desktop.ui.main_window import MainWindow

HEAVY = ("torch", "diffusers", "transformers", "cv2")


def wait_until(condition):
    loop = QEventLoop()
    timer = QTimer(interval=20)
    timer.timeout.connect(lambda: loop.quit() if condition() else None)
    timer.start()
    QTimer.singleShot(60000, loop.quit)  # a hang fails the assertions, not the suite
    loop.exec()
    timer.stop()


app = create_app()
window = MainWindow()
window.resize(1100, 760)
at_show = []
LATER = ("structlog", "huggingface_hub")  # logging setup, the model probe: after the paint
window.firstShown.connect(
    lambda: at_show.append([n for n in HEAVY + LATER if n in sys.modules])
)
window.show()
# late init (disk probes, first style) has run once the first style is selected
wait_until(lambda: window.gallery.current_style() == "watercolor" and at_show)
# the instant engine warms in the background after the window shows (OpenCV only)
wait_until(lambda: window.preloader.instant_warm)
app.processEvents()
report = {
    "shown": window.isVisible(),
    "at_start": at_show[0],
    "forgotten": window.renderer.forget_model(Path("nothing-loaded")),
    "instant_warm": window.preloader.instant_warm,
    # with nothing in the HF cache, probing it must not import huggingface_hub (~0.45 s)
    "hub_after_probe": "huggingface_hub" in sys.modules,
}
report["after_forget"] = [name for name in HEAVY if name in sys.modules and name != "cv2"]
window.open_photo(str(sample_photo()))
window.gallery.select("pencil-sketch")
results = []
window.resultShown.connect(results.append)
window.render()
wait_until(lambda: bool(results))
report["rendered"] = results[0].backend if results else None
report["cv2_after_instant_render"] = "cv2" in sys.modules
report["torch_after_instant_render"] = "torch" in sys.modules
window.close()
print(json.dumps(report))
"""


def test_window_shows_without_torch_diffusers_transformers_or_opencv():
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    proc = subprocess.run(
        [sys.executable, "-c", CHILD],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["shown"]
    assert report["at_start"] == [], f"imported at window start: {report['at_start']}"
    # evicting a model before any diffusion render must not load the diffusion stack
    assert report["forgotten"] == 0 and report["after_forget"] == []
    # OpenCV is lazy, not absent: the warm-up after the window shows loads it
    assert report["rendered"] == "instant" and report["cv2_after_instant_render"]
    assert report["instant_warm"] and not report["torch_after_instant_render"]
    assert not report["hub_after_probe"]
