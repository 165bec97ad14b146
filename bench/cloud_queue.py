"""Enqueue-to-start overhead of cloud renders with idle workers (p50/p95), as JSON.

    .venv/bin/python -m bench.cloud_queue [--jobs 40] [--workers 2]

What it measures: from `POST /api/generate` answering 202 to a worker having claimed
the job (the job's `started_at` - `created_at`), one job at a time so every job finds
an idle worker: the queue's own cost (Redis round trips, the worker's poll interval,
the claim), not rendering. Jobs use the instant style so no model load is counted.

Two setups: the embedded queue (StubBroker, one in-process worker thread) and, when
`redis-server` is installed, Redis with `--workers` `photoflux-cloud worker` processes.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._util import emit
from cloud_api.worker.main import start_embedded_worker
from tests.cloud.live import Api, LiveServer, cloud_settings
from tests.cloud.render_helpers import (
    WORKER_TOKEN,
    DurableRedis,
    RenderClient,
    start_worker,
    worker_env,
)


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
        "jobs": len(ordered),
    }


def _measure(server: LiveServer, client: RenderClient, jobs: int) -> dict[str, float]:
    upload = client.upload_id()
    waits = []
    for n in range(jobs + 2):  # the first two warm the workers up (imports, connections)
        job_id = client.job(upload, model="instant", seed=n)
        client.wait(job_id, timeout=120)
        doc = server.db.render_jobs.find_one({"_id": job_id})
        if n >= 2:
            waits.append((doc["started_at"] - doc["created_at"]).total_seconds())
    return _percentiles(waits)


def embedded(jobs: int, folder: Path) -> dict[str, Any]:
    settings = cloud_settings(objects_dir=str(folder / "objects"), render_concurrent=100)
    with LiveServer(settings) as server:
        ctx = server.app.state.ctx
        worker = start_embedded_worker(ctx.queue.broker, server.url, ctx.worker_token)
        api = Api(server)
        client = RenderClient(server.url, api.device(api.studio("Bench")))
        try:
            return _measure(server, client, jobs)
        finally:
            worker.stop(timeout=10_000)


def redis(jobs: int, workers: int, folder: Path) -> dict[str, Any] | None:
    try:
        broker = DurableRedis(folder)
    except BaseException:  # pytest.skip when redis-server is missing
        return None
    broker.start()
    settings = cloud_settings(
        redis_url=broker.url,
        worker_token=WORKER_TOKEN,
        objects_dir=str(folder / "objects"),
        render_concurrent=100,
        rate_limit_token="100000/minute",
    )
    processes = []
    try:
        with LiveServer(settings) as server:
            api = Api(server)
            client = RenderClient(server.url, api.device(api.studio("Bench")))
            for n in range(workers):
                env = worker_env(broker.url, server.url, folder / "models", f"bench-{n}")
                processes.append(start_worker(env, folder / f"worker-{n}.log"))
            return _measure(server, client, jobs) | {"workers": workers}
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "redis").mkdir()
        started = time.perf_counter()
        results = {
            "embedded": embedded(args.jobs, root),
            "redis": redis(args.jobs, args.workers, root / "redis"),
            "note": "generate (202) to a worker's claim, one job at a time, idle workers",
            "seconds": round(time.perf_counter() - started, 1),
        }
    emit("cloud_queue", results)


if __name__ == "__main__":
    main()
