"""Whole-process `photoflux render` of a 512 px photo with an instant style.

Compares the wall time of the whole command (interpreter start, imports, intake, style,
watermark, atomic write) with the style's own time, which the command reports in
`--json` (`result.timings.style`). Two routes: `--model instant`, and no `--model` on a
machine with no diffusion model installed (the style's instant stand-in).
The CPU time of the process is reported too: on a shared, busy machine it moves far less
than wall time. Usage: python -m bench.instant_whole_process [--style ID] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from bench._util import emit
from photoflux_desktop.engine.resources import sample_photo


def _photo(folder: Path) -> Path:
    image = Image.open(sample_photo()).convert("RGB")
    image.thumbnail((512, 512), Image.Resampling.LANCZOS)
    path = folder / "photo-512.jpg"
    image.save(path, quality=92)
    return path


def _isolated_env(folder: Path) -> dict[str, str]:
    # empty private folders: nothing installed, nothing of the user's touched
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HOME=str(folder / "hf"))
    for name in ("DATA", "CONFIG", "CACHE", "MODELS"):
        env[f"PHOTOFLUX_{name}_DIR"] = str(folder / name.lower())
    return env


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _one_run(argv: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall time, CPU time (less sensitive to other load on a shared machine), style time."""
    cpu_before, started = _cpu_of_children(), time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    wall, cpu = time.perf_counter() - started, _cpu_of_children() - cpu_before
    if proc.returncode != 0:
        raise SystemExit(f"render failed ({proc.returncode}): {proc.stderr[-2000:]}")
    payload = json.loads(proc.stdout.strip().splitlines()[-1])
    return wall, cpu, float(payload["result"]["timings"]["style"])


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _route(argv: list[str], env: dict[str, str], runs: int) -> dict[str, float | int]:
    _one_run(argv, env)  # warm the disk cache, as a second launch by a user would be
    walls, cpus, styles = zip(*(_one_run(argv, env) for _ in range(runs)), strict=True)
    whole, style = statistics.median(walls), statistics.median(styles)
    return {
        "whole_process_median_ms": _ms(whole),
        "whole_process_min_ms": _ms(min(walls)),
        "whole_process_cpu_median_ms": _ms(statistics.median(cpus)),
        "style_median_ms": _ms(style),
        "overhead_median_ms": _ms(whole - style),
        "within_one_second_of_style": whole - style <= 1.0,
        "runs": runs,
    }


def _interpreter_start(env: dict[str, str], runs: int) -> float:
    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
        walls.append(time.perf_counter() - started)
    return round(statistics.median(walls) * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--style", default="watercolor")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        photo, env = _photo(folder), _isolated_env(folder)
        base = [sys.executable, "-m", "photoflux_desktop", "render", str(photo)]
        base += ["-o", str(folder / "out.png"), "--style", args.style, "--json"]
        routes = {
            "model_instant": _route([*base, "--model", "instant"], env, args.runs),
            "no_model_installed": _route(base, env, args.runs),
        }
        emit(
            "instant_whole_process_512px",
            {
                "style": args.style,
                "photo_px": list(Image.open(photo).size),
                "python_start_median_ms": _interpreter_start(env, args.runs),
                "routes": routes,
            },
        )


if __name__ == "__main__":
    main()
