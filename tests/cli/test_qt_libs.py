"""Qt's X11 plugin libraries: found missing with a fake `ldd`, reported by `doctor`,
and `photoflux gui` refuses to start (instead of Qt aborting) with the install command."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from photoflux_desktop.cli import main
from photoflux_desktop.engine import qt_libs

FAKE_LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibxkbcommon-x11.so.0 => /lib/x86_64-linux-gnu/libxkbcommon-x11.so.0 (0x00007f53)
\tlibxcb-icccm.so.4 => not found
\tlibphotoflux-nonexistent.so.7 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
"""

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ldd is Linux")


@pytest.fixture
def fake_ldd(tmp_path, monkeypatch) -> Path:
    """An `ldd` first on PATH that reports three missing libraries, one unknown."""
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "ldd"
    script.write_text(f"#!/bin/sh\ncat <<'END'\n{FAKE_LDD_OUTPUT}END\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return folder


def test_parsing_names_each_missing_library_once_with_its_package():
    missing = qt_libs.missing_from_ldd(FAKE_LDD_OUTPUT)
    assert missing == (
        "libxcb-icccm.so.4",
        "libphotoflux-nonexistent.so.7",
        "libxcb-keysyms.so.1",
    )
    assert qt_libs.packages_for(missing) == (
        "libxcb-icccm4",
        "libphotoflux-nonexistent.so.7",  # unknown: named as it is, never dropped
        "libxcb-keysyms1",
    )


def test_every_library_the_real_plugin_links_is_known(tmp_path):
    plugin = qt_libs.xcb_plugin()
    if plugin is None:
        pytest.skip("PySide6 has no xcb plugin here")
    out = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True).stdout
    xcb = {
        line.split("=>")[0].strip()
        for line in out.splitlines()
        if "=>" in line and ("xcb" in line or "xkb" in line)
    }
    assert xcb and xcb <= set(qt_libs.PACKAGES)  # a new Qt dependency must be mapped
    bootstrap = (Path(__file__).parents[2] / "scripts" / "bootstrap.sh").read_text()
    for soname in xcb:  # and the bootstrap installs its package
        assert f" {qt_libs.PACKAGES[soname]}" in bootstrap.replace("\n", " ")


def test_doctor_reports_missing_qt_libraries_with_the_command(capsys, fake_ldd):
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    qt = report["qt_libs"]
    assert qt["checked"] and "libphotoflux-nonexistent.so.7" in qt["missing"]
    assert qt["install_command"].startswith("sudo apt-get install -y libxcb-icccm4")
    assert any(qt["install_command"] in item for item in report["missing"])


def test_gui_refuses_to_start_and_prints_the_install_command(fake_ldd, tmp_path):
    env = {**os.environ, "DISPLAY": ":99"}
    env.pop("QT_QPA_PLATFORM", None)  # the real X11 plugin would be chosen
    env.pop("WAYLAND_DISPLAY", None)
    code = "import sys; from photoflux_desktop.cli import main; sys.exit(main(['gui']))"
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr  # not 134: Qt was never asked to start
    assert "libphotoflux-nonexistent.so.7" in proc.stderr
    assert "sudo apt-get install -y libxcb-icccm4 libphotoflux-nonexistent.so.7" in proc.stderr


def test_offscreen_and_wayland_do_not_need_xcb():
    assert not qt_libs.needs_xcb({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"})
    assert not qt_libs.needs_xcb({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"})
    assert qt_libs.needs_xcb({"DISPLAY": ":0"})
    assert qt_libs.needs_xcb({"QT_QPA_PLATFORM": "xcb"})
