"""A plain `pip install .[desktop,diffusion]` in a fresh venv renders and verifies.

No bootstrap script, no `--no-deps` extras: exactly what a Python user types. Slow (it
installs torch and Qt; wheels come from pip's cache or the index), so it is marked slow.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# what the wheel is built from (pyproject's packages); copied so the build leaves no
# build/ or *.egg-info in the checkout
SOURCES = ("pyproject.toml", "README.md", "photoflux_desktop", "cloud_api", "resources")


def _copy_project(target: Path) -> Path:
    target.mkdir(parents=True)
    junk = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=junk)
        else:
            shutil.copy2(source, target / name)
    return target


WINDOW_PROBE = """
import importlib, pkgutil, photoflux_desktop
for info in pkgutil.walk_packages(photoflux_desktop.__path__, "photoflux_desktop."):
    if not info.name.endswith("__main__"):  # that one runs the app
        importlib.import_module(info.name)
from PySide6.QtWidgets import QApplication
from photoflux_desktop.ui.main_window import MainWindow
app = QApplication([])
window = MainWindow()
window.show()
app.processEvents()
window.close()
print("window ok")
"""


def _private_dirs(tmp_path: Path) -> dict[str, str]:
    """The probe's settings, library and outbox go to the test's folder, not the user's."""
    names = ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")
    return {name: str(tmp_path / "home" / name.lower()) for name in names}


def _run(argv: list, env: dict[str, str], timeout: float, cwd: Path) -> subprocess.CompletedProcess:
    # cwd outside the checkout: `python -c` puts it on sys.path, which would shadow the install
    return subprocess.run(
        [str(a) for a in argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
        cwd=cwd,
    )


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_plain_pip_install_renders_and_verifies(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(target)
    python = target / ("Scripts" if os.name == "nt" else "bin") / "python"
    project = _copy_project(tmp_path / "project")
    started = time.perf_counter()
    install = _run(
        [python, "-m", "pip", "install", "--quiet", f"{project}[desktop,diffusion]"],
        env,
        1500,
        tmp_path,
    )
    seconds = time.perf_counter() - started
    sys.stderr.write(f"pip install .[desktop,diffusion] took {seconds:.0f} s\n")
    assert install.returncode == 0, install.stderr[-4000:]

    photoflux = python.parent / "photoflux"
    out = tmp_path / "out.png"
    photo = ROOT / "tests" / "data" / "astronaut.png"
    render = _run(
        [photoflux, "render", photo, "-o", out, "--model", "instant", "--json"], env, 300, tmp_path
    )
    assert render.returncode == 0, render.stdout[-2000:] + render.stderr[-4000:]
    check = _run([photoflux, "verify", out, "--json"], env, 300, tmp_path)
    assert check.returncode == 0, check.stderr[-4000:]
    report = json.loads(check.stdout)
    assert report["watermark"]["detected"] and report["made_by_photoflux"]
    assert report["metadata"]["style"] and report["metadata"]["backend"] == "instant"
    # the installed copy, not this checkout, did the work
    probe = "import photoflux_desktop; print(photoflux_desktop.__file__)"
    assert str(target) in _run([python, "-c", probe], env, 60, tmp_path).stdout
    # every desktop module ships, and the window opens from the installed copy
    window = _run(
        [python, "-c", WINDOW_PROBE],
        {**env, **_private_dirs(tmp_path), "QT_QPA_PLATFORM": "offscreen"},
        300,
        tmp_path,
    )
    assert window.returncode == 0 and "window ok" in window.stdout, window.stderr[-4000:]
