#!/usr/bin/env bash
# README command 1: install everything, then run PhotoFlux's main job.
# With a display: the desktop app (when this build has it). Always: style the bundled
# sample photo headlessly, so a fresh machine shows a result.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
VENV="${PHOTOFLUX_VENV:-.venv}"
PHOTOFLUX="$VENV/bin/photoflux"

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && "$VENV/bin/python" -c \
  "import importlib.util,sys; sys.exit(importlib.util.find_spec('photoflux_desktop.ui.app') is None)"; then
  exec "$PHOTOFLUX" gui "$@"
fi

mkdir -p out
echo "+ photoflux render resources/samples/portrait.jpg -o out/portrait-watercolor.png --style watercolor"
"$PHOTOFLUX" render resources/samples/portrait.jpg -o out/portrait-watercolor.png --style watercolor
echo "+ photoflux verify out/portrait-watercolor.png"
"$PHOTOFLUX" verify out/portrait-watercolor.png
echo "Styles: $PHOTOFLUX styles    Models: $PHOTOFLUX models    Health: $PHOTOFLUX doctor"
