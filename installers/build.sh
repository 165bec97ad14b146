#!/usr/bin/env bash
# Builds the desktop bundle with PyInstaller (--onedir): installers/photoflux.spec.
#
#   bash installers/build.sh            -> dist/photoflux/photoflux (+ _internal/)
#
# Environment (all optional):
#   PYTHON                    the interpreter whose packages go into the bundle
#                             [$PHOTOFLUX_VENV/bin/python, made by scripts/bootstrap.sh]
#   PHOTOFLUX_VENV            the project's venv [.venv]
#   PHOTOFLUX_DIST_DIR        where the bundle folder goes [dist]
#   PHOTOFLUX_WORK_DIR        PyInstaller's scratch folder [build/pyinstaller]
#   PHOTOFLUX_BUNDLE_VARIANT  cpu | cuda [cpu]: installers/README.md, "NVIDIA GPU"
#   PHOTOFLUX_BUNDLE_ICON     .ico (Windows) / .icns (macOS) for the executable
# The build requirements (the `build` extra in pyproject.toml) are installed into that
# interpreter's environment; the project itself is not reinstalled.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

VENV="${PHOTOFLUX_VENV:-.venv}"
if [ -z "${PYTHON:-}" ]; then
  [ -x "$VENV/bin/python" ] || bash scripts/bootstrap.sh
  PYTHON="$VENV/bin/python"
fi
DIST="${PHOTOFLUX_DIST_DIR:-dist}"
WORK="${PHOTOFLUX_WORK_DIR:-build/pyinstaller}"

# the `build` extra, read from pyproject.toml so the bounds live in one place
mapfile -t wanted < <("$PYTHON" - <<'PY'
import tomllib
with open("pyproject.toml", "rb") as f:
    print("\n".join(tomllib.load(f)["project"]["optional-dependencies"]["build"]))
PY
)
if ! "$PYTHON" - "${wanted[@]}" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, version
from packaging.requirements import Requirement
for spec in sys.argv[1:]:
    req = Requirement(spec)
    try:
        if not req.specifier.contains(version(req.name), prereleases=True):
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
PY
then
  echo "build.sh: installing ${wanted[*]}"
  "$PYTHON" -m pip install --quiet --disable-pip-version-check "${wanted[@]}"
fi

echo "build.sh: building the ${PHOTOFLUX_BUNDLE_VARIANT:-cpu} bundle with $PYTHON"
started=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$DIST" --workpath "$WORK" installers/photoflux.spec
elapsed=$(( $(date +%s) - started ))

BUNDLE="$DIST/photoflux"
EXE="$BUNDLE/photoflux"
[ -f "$EXE.exe" ] && EXE="$EXE.exe"
"$EXE" --version
echo "build.sh: bundle $(cd "$BUNDLE" && pwd) ($(du -sh "$BUNDLE" | cut -f1), built in ${elapsed} s)"
echo "build.sh: run it with $EXE (or $EXE render PHOTO -o OUT.png --style watercolor)"
