"""Cloud renders on Redis: a real redis-server (append-only, fsync always), the API over
loopback, and two `photoflux-cloud worker` processes rendering a tiny SD pipeline on
CPU. Workers are killed with SIGKILL and Redis itself is killed and restarted: no job
is lost, and a dead worker's job is finished by the other."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cloud.live import Api, LiveServer, cloud_settings
from tests.cloud.render_helpers import (
    WORKER_TOKEN,
    DurableRedis,
    RenderClient,
    install_tiny_sd,
    start_worker,
    worker_env,
)


class Cluster:
    def __init__(self, server: LiveServer, redis: DurableRedis, client: RenderClient) -> None:
        self.server = server
        self.redis = redis
        self.client = client
        self.workers: dict[str, subprocess.Popen] = {}

    def job_doc(self, job_id: str) -> dict:
        return self.server.db.render_jobs.find_one({"_id": job_id})


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, tiny_models: dict[str, Path]
) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("render-cluster")
    models = root / "models"
    install_tiny_sd(tiny_models["sd"], models)
    (root / "redis").mkdir()
    redis = DurableRedis(root / "redis")
    redis.start()
    settings = cloud_settings(
        redis_url=redis.url,
        worker_token=WORKER_TOKEN,
        worker_heartbeat_ms=2000,
        queue_maintenance_chance=1_000_000,
        render_attempts=3,
        render_concurrent=20,
        objects_dir=str(root / "objects"),
        rate_limit_token="100000/minute",
    )
    live = LiveServer(settings).__enter__()
    api = Api(live)
    cluster = Cluster(live, redis, RenderClient(live.url, api.device(api.studio("Queue Studio"))))
    for name in ("w1", "w2"):
        env = worker_env(redis.url, live.url, models, name)
        cluster.workers[name] = start_worker(env, root / f"{name}.log")
    try:
        yield cluster
    finally:
        for process in cluster.workers.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in cluster.workers.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        live.__exit__(None, None, None)
        redis.stop()


def test_two_workers_share_the_queue(cluster: Cluster) -> None:
    client = cluster.client
    upload = client.upload_id()
    jobs = [client.job(upload, steps=2, seed=n) for n in range(4)]
    results = [client.wait(job_id, timeout=120) for job_id in jobs]
    assert [r["status"] for r in results] == ["succeeded"] * 4, results
    ran_on = {cluster.job_doc(job_id)["worker_id"] for job_id in jobs}
    assert ran_on == {"w1", "w2"}


def test_a_worker_killed_mid_job_leaves_the_job_to_the_other(cluster: Cluster) -> None:
    client = cluster.client
    job_id = client.job(client.upload_id(), steps=30, strength=1.0)
    client.wait(job_id, lambda r: r["status"] == "running" and (r["step"] or 0) >= 1)
    victim = cluster.job_doc(job_id)["worker_id"]
    process = cluster.workers[victim]
    process.send_signal(signal.SIGSTOP)  # frozen mid-job: it cannot finish first
    assert cluster.job_doc(job_id)["status"] == "running"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)

    final = client.wait(job_id, timeout=120)
    assert final["status"] == "succeeded", final
    assert final["attempts"] == 2
    assert cluster.job_doc(job_id)["worker_id"] != victim


def test_redis_restarted_mid_run_loses_no_job(cluster: Cluster) -> None:
    client = cluster.client
    upload = client.upload_id()
    jobs = [client.job(upload, steps=4, strength=1.0, seed=n) for n in range(3)]
    client.wait(jobs[0], lambda r: r["status"] in ("running", "succeeded"), timeout=120)
    cluster.redis.kill()  # SIGKILL: only what the append-only file holds survives
    cluster.redis.start()
    results = [client.wait(job_id, timeout=120) for job_id in jobs]
    assert [r["status"] for r in results] == ["succeeded"] * 3, results
