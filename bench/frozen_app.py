"""The frozen desktop app against `python -m photoflux_desktop`, whole process, same commands.

For each: `--version` (start-up floor), `doctor --json` (loads torch to describe the
device) and an instant-style `render` of a 512 px photo (`--model instant --json`, as
bench/instant_whole_process.py measures it). Wall and CPU time of the whole process,
medians of N runs after one warm-up run each (a user's second launch: the OS file cache
holds the files). Also the bundle's size on disk.

Usage: python -m bench.frozen_app [--bundle dist/photoflux] [--runs N] [--style ID]
(build the bundle first: bash installers/build.sh)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._util import emit
from bench.instant_whole_process import _cpu_of_children, _isolated_env, _ms, _photo


def _size_mb(folder: Path) -> float:
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    return round(total / 2**20, 1)


def _largest(internal: Path, count: int = 6) -> dict[str, float]:
    sizes = {
        p.name: _size_mb(p) if p.is_dir() else round(p.stat().st_size / 2**20, 1)
        for p in internal.iterdir()
    }
    return dict(sorted(sizes.items(), key=lambda item: -item[1])[:count])


def _timed(argv: list[str], env: dict[str, str], runs: int) -> dict[str, float | int]:
    walls, cpus = [], []
    for attempt in range(runs + 1):
        cpu_before, started = _cpu_of_children(), time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        wall, cpu = time.perf_counter() - started, _cpu_of_children() - cpu_before
        if proc.returncode != 0:
            raise SystemExit(f"{argv[1:3]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
        if attempt:  # the first run warms the disk cache
            walls.append(wall)
            cpus.append(cpu)
    return {
        "wall_median_ms": _ms(statistics.median(walls)),
        "wall_min_ms": _ms(min(walls)),
        "cpu_median_ms": _ms(statistics.median(cpus)),
        "runs": runs,
    }


def _commands(photo: Path, out: Path, style: str) -> dict[str, list[str]]:
    render = ["render", str(photo), "-o", str(out), "--style", style, "--model", "instant"]
    return {
        "version": ["--version"],
        "doctor_json": ["doctor", "--json"],
        "instant_render": [*render, "--json"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bundle", type=Path, default=Path("dist/photoflux"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--style", default="watercolor")
    args = parser.parse_args()
    executable = args.bundle / ("photoflux.exe" if os.name == "nt" else "photoflux")
    if not executable.is_file():
        raise SystemExit(f"no bundle at {args.bundle}: run bash installers/build.sh first")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        photo, env = _photo(folder), _isolated_env(folder)
        env["QT_QPA_PLATFORM"] = "offscreen"
        commands = _commands(photo, folder / "out.png", args.style)
        frozen, source = [str(executable)], [sys.executable, "-m", "photoflux_desktop"]
        # the frozen app must not lean on the checkout through PYTHONPATH
        frozen_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
        results = {
            name: {
                "frozen": _timed([*frozen, *argv], frozen_env, args.runs),
                "python": _timed([*source, *argv], env, args.runs),
            }
            for name, argv in commands.items()
        }
    emit(
        "frozen_app",
        {
            "bundle": str(args.bundle.resolve()),
            "bundle_size_mb": _size_mb(args.bundle),
            "largest_parts_mb": _largest(args.bundle / "_internal"),
            "style": args.style,
            "commands": results,
        },
    )


if __name__ == "__main__":
    main()
