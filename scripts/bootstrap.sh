#!/usr/bin/env bash
# Creates .venv and installs PhotoFlux with every extra. Safe to run again: it only
# reinstalls when pyproject.toml or this script changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${PHOTOFLUX_VENV:-.venv}"
STAMP="$VENV/.photoflux-installed"
WANT="$(cat pyproject.toml scripts/bootstrap.sh | sha256sum | cut -d' ' -f1)"

# Debian packages Qt needs: offscreen drawing, and every library its X11 platform plugin
# (PySide6/Qt/plugins/platforms/libqxcb.so) links, from `ldd` on the plugin: without one
# Qt aborts with a misleading message (engine/qt_libs.py, `photoflux doctor`, checks it).
# With PHOTOFLUX_TEST_SERVICES=1 also the real services and browser the tests start
# (redis-server, clamav-daemon, chromium) and the deploy/ validators (caddy, promtool).
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  wanted=(libegl1 libgl1 libxkbcommon0 libfontconfig1 libfreetype6 libdbus-1-3 libglib2.0-0
    libx11-6 libx11-xcb1 libxcb1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4
    libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render0 libxcb-render-util0
    libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1)
  if [ "${PHOTOFLUX_TEST_SERVICES:-0}" = "1" ]; then
    # caddy and prometheus: their own validators (caddy validate, promtool) check deploy/
    wanted+=(redis-server clamav-daemon chromium caddy prometheus)
  fi
  missing=()
  for pkg in "${wanted[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "bootstrap: apt-get install ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      "${missing[@]}" >/dev/null
  fi
fi

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
  exit 0
fi

echo "bootstrap: installing PhotoFlux into $VENV (first run takes a few minutes)"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
"${PIP[@]}" --upgrade pip wheel setuptools
# torch first and pinned: on these machines 2.13.0 is a local CPU build; a GPU user
# installs the CUDA build of the same version first (README, "NVIDIA GPU").
"$VENV/bin/python" -c "import torch" 2>/dev/null || "${PIP[@]}" "torch==2.13.0"
"${PIP[@]}" -e ".[diffusion,openvino,desktop,cloud,dev]"
echo "$WANT" > "$STAMP"
