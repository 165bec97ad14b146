"""Longest event-loop stall while a diffusion render runs in the window, and while the
instant-look previews of a newly opened photo render in the background (with the time
from opening the photo to the last preview shown on its tile).

A QTimer ticks every 5 ms on the GUI thread; any gap beyond the interval is time the
window could not repaint or react. The render uses a small random-weight SD model at
512 px (real compute on the worker thread, real previews every step).
`--previews-only` measures the previews alone (no model is built, no render runs).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_TMP = Path(tempfile.mkdtemp(prefix="photoflux-stall-"))
for _name in ("DATA", "CONFIG", "CACHE"):
    os.environ[f"PHOTOFLUX_{_name}_DIR"] = str(_TMP / _name.lower())

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402

from bench._util import emit  # noqa: E402
from bench.engine_overhead import build_small_sd  # noqa: E402
from photoflux_desktop.engine.presets import bundled_presets  # noqa: E402
from photoflux_desktop.engine.resources import sample_photo  # noqa: E402
from photoflux_desktop.ui.app import create_app  # noqa: E402
from photoflux_desktop.ui.main_window import MainWindow  # noqa: E402

INTERVAL_MS = 5


def measure_preload(window: MainWindow) -> float | None:
    """The longest stall while the engine preloads (before any render starts)."""
    if window.preloader is None or window.preloader.done:
        return None
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000 - INTERVAL_MS)
        last[0] = now

    timer = QTimer(interval=INTERVAL_MS)
    timer.timeout.connect(tick)
    loop = QEventLoop()
    window.preloader.finished.connect(loop.quit)
    timer.start()
    if not window.preloader.done:
        loop.exec()
    timer.stop()
    return round(max(gaps), 1) if gaps else None


def measure_startup(window: MainWindow) -> dict[str, float | None]:
    """The longest stall from the first paint until start-up work is done: late init
    (model probe, first style) on the GUI thread, the instant warm-up in the background."""
    gaps: list[float] = []
    last = [0.0]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000 - INTERVAL_MS)
        last[0] = now

    timer = QTimer(interval=INTERVAL_MS)
    timer.timeout.connect(tick)

    def shown() -> None:
        last[0] = time.perf_counter()
        timer.start()

    window.firstShown.connect(shown)
    started = time.perf_counter()
    window.show()
    loop = QEventLoop()
    done = QTimer(interval=10)
    warm = window.preloader
    done.timeout.connect(
        lambda: (
            loop.quit()
            if window.gallery.current_style() is not None and (warm is None or warm.instant_warm)
            else None
        )
    )
    done.start()
    QTimer.singleShot(60000, loop.quit)
    loop.exec()
    done.stop()
    timer.stop()
    return {
        "startup_work_s": round(time.perf_counter() - started, 2),
        "startup_longest_stall_ms": round(max(gaps), 1) if gaps else None,
    }


def measure_previews(window: MainWindow, photo: str) -> dict[str, float]:
    """Open `photo` and tick until every style tile shows its look on it."""
    gaps: list[float] = []
    last = [time.perf_counter()]
    returned_at = [0.0]

    worst: list[tuple[float, float, int]] = []  # (stall, ms after opening, previews landed)
    landed = [0]
    window.looks._landed.connect(lambda *_: landed.__setitem__(0, landed[0] + 1))

    def tick() -> None:
        now = time.perf_counter()
        if returned_at[0]:  # open_photo itself (decoding the file) is not the previews' stall
            gap = (now - max(last[0], returned_at[0])) * 1000 - INTERVAL_MS
            gaps.append(gap)
            if gap > 30:
                worst.append((round(gap, 1), round((now - started[0]) * 1000), landed[0]))
        last[0] = now

    shown: list[float] = []
    loop = QEventLoop()
    window.looks.previewsShown.connect(lambda seconds: (shown.append(seconds), loop.quit()))
    timer = QTimer(interval=INTERVAL_MS)
    timer.timeout.connect(tick)
    started = [0.0]

    def open_it() -> None:
        started[0] = time.perf_counter()
        window.open_photo(photo)
        returned_at[0] = time.perf_counter()

    timer.start()
    QTimer.singleShot(0, open_it)
    loop.exec()
    timer.stop()
    return {
        "open_to_all_previews_s": round(shown[0], 3),
        "open_photo_call_ms": round((returned_at[0] - started[0]) * 1000, 1),
        "previews": len(bundled_presets()),
        "previews_longest_stall_ms": round(max(gaps), 1) if gaps else 0.0,
        "stalls_over_30ms": sorted(worst, reverse=True)[:5],
    }


def main() -> None:
    create_app()
    previews_only = "--previews-only" in sys.argv  # skip the render: minutes on a busy 2-core box
    model = None if previews_only else build_small_sd(_TMP / "small-sd")
    window = MainWindow()
    startup_stall = measure_startup(window)
    # the first photo also pays OpenCV's one-time import on the worker (it holds the GIL)
    preview_figures = {
        "first_photo": measure_previews(window, str(sample_photo())),
        "next_photo": measure_previews(window, str(sample_photo())),
    }
    if previews_only:
        emit(
            "ui_event_loop_stall_instant_previews",
            {**preview_figures, **startup_stall, "target_ms": 50},
        )
        window.close()
        return
    window.gallery.select("comic")
    window.params.set_model(str(model))
    window.params.steps.setValue(12)
    window.params.strength.setValue(1.0)
    window.params.size.setCurrentIndex(0)  # 512 px
    # choosing a diffusion model starts the background preload of torch/diffusers, as
    # it does at start-up when a model is installed; a user then picks a photo and style
    preload_stall = measure_preload(window)
    gaps: list[float] = []
    last = [time.perf_counter()]
    stage = ["starting"]
    worst: list[tuple[float, str]] = []

    def tick() -> None:
        now = time.perf_counter()
        gap = (now - last[0]) * 1000 - INTERVAL_MS
        gaps.append(gap)
        if gap > 30:
            worst.append((round(gap, 1), stage[0]))
        last[0] = now

    timer = QTimer(interval=INTERVAL_MS)
    timer.timeout.connect(tick)
    loop = QEventLoop()
    window.controller.idle.connect(loop.quit)
    previews = [0]

    def on_progress(event) -> None:
        previews[0] += 1
        stage[0] = f"{event.stage.value} {event.step}"

    window.controller.progress.connect(on_progress)
    started = time.perf_counter()
    timer.start()
    window.render()
    if not window.controller.busy:
        raise SystemExit(f"render did not start: {window.banner.text.text()}")
    loop.exec()
    timer.stop()
    elapsed = time.perf_counter() - started
    ordered = sorted(gaps)
    sys.stdout.write(
        json.dumps(
            {
                "benchmark": "ui_event_loop_stall_during_render",
                "render_s": round(elapsed, 2),
                "progress_events": previews[0],
                "ticks": len(gaps),
                "longest_stall_ms": round(max(ordered), 1),
                "p99_stall_ms": round(ordered[int(len(ordered) * 0.99) - 1], 1),
                "median_stall_ms": round(ordered[len(ordered) // 2], 2),
                "stalls_over_30ms": sorted(worst, reverse=True)[:10],
                "preload_longest_stall_ms": preload_stall,
                **startup_stall,
                "instant_previews": preview_figures,
                "target_ms": 50,
            }
        )
        + "\n"
    )
    window.close()


if __name__ == "__main__":
    main()
