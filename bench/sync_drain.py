"""Studio sync: how fast the outbox takes writes, and how fast it drains to the API.

    .venv/bin/python -m bench.sync_drain [--events 10000] [--single 500] [--shares 50]

The cloud API runs as its own process (`photoflux-cloud serve`, embedded store) on
loopback. Figures:
- `write_single_per_s`: one event per call, each its own committed, fsync'd
  transaction (what a click in the app costs);
- `write_batched_per_s`: `--events` events in one call (one transaction);
- `lead_write_ms`: median time of `add_lead` (the user waits for this before "done");
- `share_write_per_s` / `share_write_ms`: QR shares queued with a 512 px noise PNG each
  (~0.8 MB; the image file written and fsync'd, then its row committed): what showing a
  QR code costs;
- `drain_s`: `--events` queued events sent in batches of 500 until the outbox is empty
  (target: under 10 s on this 2-core machine).
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path

from bench._util import emit
from bench.cloud_load import device_tokens, free_port, start_server
from photoflux_desktop.sync.client import CloudClient
from photoflux_desktop.sync.drain import Drainer
from photoflux_desktop.sync.events import event_body
from photoflux_desktop.sync.leads import lead_body
from photoflux_desktop.sync.outbox import Outbox
from photoflux_desktop.sync.share import new_share_token, queue_share


def _writes(
    outbox: Outbox, scratch: Outbox, single: int, events: int, shares: int = 50
) -> dict[str, float]:
    """Single writes and leads go to `scratch`, so `outbox` holds exactly `events`."""
    started = time.perf_counter()
    for n in range(single):
        scratch.add_event(event_body("style_selected", "bench", style="watercolor", n=n))
    single_s = time.perf_counter() - started

    lead_times = []
    for n in range(50):
        body = lead_body(f"guest{n}@example.org", consent=True)
        began = time.perf_counter()
        scratch.add_lead(body)
        lead_times.append(time.perf_counter() - began)

    image = _photo_png()
    share_times = []
    for _ in range(shares):
        began = time.perf_counter()
        queue_share(scratch, new_share_token(), image, campaign="bench")
        share_times.append(time.perf_counter() - began)

    bodies = [event_body("render_finished", "bench", style="comic", steps=4) for _ in range(events)]
    started = time.perf_counter()
    outbox.add_events(bodies)
    batched_s = time.perf_counter() - started
    return {
        "write_single_per_s": round(single / single_s),
        "lead_write_ms": round(statistics.median(lead_times) * 1000, 2),
        "write_batched_per_s": round(events / batched_s),
        "share_write_per_s": round(shares / sum(share_times)),
        "share_write_ms": round(statistics.median(share_times) * 1000, 2),
        "share_image_bytes": len(image),
    }


def _photo_png() -> bytes:
    """A 512 px PNG that does not compress to nothing (random noise on a gradient)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 255, (512, 512, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--single", type=int, default=500)
    parser.add_argument("--shares", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start_server(port, Path(tmp) / "server.log")
        try:
            url = f"http://127.0.0.1:{port}"
            token = device_tokens(url, 1)[0]
            with (
                Outbox(Path(tmp) / "outbox.sqlite3") as outbox,
                Outbox(Path(tmp) / "scratch" / "outbox.sqlite3") as scratch,
            ):
                writes = _writes(outbox, scratch, args.single, args.events, args.shares)
                queued = outbox.counts()
                with CloudClient(url, token) as client:
                    started = time.perf_counter()
                    report = Drainer(outbox, client).run()
                    drain_s = time.perf_counter() - started
                left = outbox.counts()
        finally:
            server.terminate()
            server.wait(timeout=30)
    sent_events = report.sent["event"]
    emit(
        "sync_drain",
        {
            **writes,
            "queued": {kind: queued[kind]["pending"] for kind in queued},
            "sent": report.sent,
            "left_pending": {kind: left[kind]["pending"] for kind in left},
            "drain_s": round(drain_s, 2),
            "outbox_folder": tmp,
            "drain_events_per_s": round(sent_events / drain_s),
            "target_drain_s": 10.0,
            "error": report.error,
        },
    )


if __name__ == "__main__":
    main()
