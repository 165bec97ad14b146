"""System libraries Qt's X11 platform plugin needs, checked without loading Qt.

When one is missing Qt aborts the process (exit 134) with a message naming the wrong
library, so `photoflux gui` and `photoflux doctor` ask `ldd` about the plugin first
and name the Debian packages to install.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# shared library (soname) -> the Debian/Ubuntu package that ships it
PACKAGES = {
    "libxcb.so.1": "libxcb1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}


@dataclass(frozen=True)
class QtLibsReport:
    checked: bool  # False: not Linux, no PySide6 or no ldd; nothing is known
    plugin: str | None = None
    missing: tuple[str, ...] = ()
    packages: tuple[str, ...] = field(default=())
    reason: str = ""

    @property
    def ok(self) -> bool:
        return not self.missing

    @property
    def install_command(self) -> str:
        return f"sudo apt-get install -y {' '.join(self.packages)}" if self.packages else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "plugin": self.plugin,
            "missing": list(self.missing),
            "packages": list(self.packages),
            "install_command": self.install_command or None,
            "reason": self.reason,
        }


def xcb_plugin() -> Path | None:
    """PySide6's X11 platform plugin, found without importing PySide6."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        plugin = Path(root) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.is_file():
            return plugin
    return None


def missing_from_ldd(output: str) -> tuple[str, ...]:
    """Sonames ldd reports as `name => not found`, once each, in order."""
    missing: list[str] = []
    for line in output.splitlines():
        name, _, target = line.strip().partition("=>")
        if target.strip().startswith("not found") and name.strip() not in missing:
            missing.append(name.strip())
    return tuple(missing)


def packages_for(missing: tuple[str, ...]) -> tuple[str, ...]:
    """Debian packages for the missing libraries; an unknown one by its own name."""
    return tuple(dict.fromkeys(PACKAGES.get(name, name) for name in missing))


def check_qt_libs(plugin: Path | None = None) -> QtLibsReport:
    if not sys.platform.startswith("linux"):
        return QtLibsReport(False, reason="only checked on Linux")
    plugin = plugin or xcb_plugin()
    if plugin is None:
        return QtLibsReport(False, reason="PySide6's xcb plugin was not found")
    ldd = shutil.which("ldd")
    if ldd is None:
        return QtLibsReport(False, str(plugin), reason="ldd is not available")
    try:
        proc = subprocess.run(
            [ldd, str(plugin)], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return QtLibsReport(False, str(plugin), reason=f"ldd failed: {exc}")
    missing = missing_from_ldd(proc.stdout)
    return QtLibsReport(True, str(plugin), missing, packages_for(missing))


def needs_xcb(environ: dict[str, str]) -> bool:
    """Whether Qt would start its X11 plugin: on Linux, unless another one is chosen."""
    if not sys.platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(":")[0].split(";")[0] == "xcb"
    # Qt 6 picks wayland on a Wayland session and falls back to xcb without it
    return bool(environ.get("DISPLAY")) and not environ.get("WAYLAND_DISPLAY")
