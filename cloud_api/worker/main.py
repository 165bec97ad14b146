"""Running workers: `photoflux-cloud worker` (a process on Redis), or the embedded
worker thread `photoflux-cloud serve` starts when no Redis is configured."""

from __future__ import annotations

import signal
import threading

import dramatiq
import structlog

from cloud_api.core.render_queue import QUEUE, make_broker
from cloud_api.worker.client import WorkerClient
from cloud_api.worker.runner import JobRunner, register_actor
from cloud_api.worker.settings import WorkerSettings

log = structlog.get_logger("cloud_api.worker")
STOP_TIMEOUT_MS = 30_000


def start_worker(broker: dramatiq.Broker, settings: WorkerSettings, token: str) -> dramatiq.Worker:
    """A Dramatiq worker with ONE thread (one job per GPU at a time) that prefetches one
    message, so a busy worker never holds a job another, idle one could start."""
    client = WorkerClient(settings.worker_api_url, token, settings.worker_id)
    register_actor(broker, JobRunner(settings, client), settings)
    worker = dramatiq.Worker(broker, queues={QUEUE}, worker_threads=1, worker_timeout=500)
    worker.queue_prefetch = 1
    worker.start()
    return worker


def run_worker_process(settings: WorkerSettings) -> int:
    """Until SIGTERM/SIGINT; the job in hand finishes first (or goes back to the queue
    when the process is killed: its message was never acknowledged)."""
    assert settings.redis_url is not None  # checked by the CLI
    token = settings.worker_token.get_secret_value() if settings.worker_token else ""
    broker = make_broker(
        settings.redis_url, settings.worker_heartbeat_ms, settings.queue_maintenance_chance
    )
    worker = start_worker(broker, settings, token)
    log.info(
        "worker_started",
        worker_id=settings.worker_id,
        api=settings.worker_api_url,
        heartbeat_ms=settings.worker_heartbeat_ms,
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    log.info("worker_stopping", worker_id=settings.worker_id)
    worker.stop(timeout=STOP_TIMEOUT_MS)
    broker.close()
    return 0


def start_embedded_worker(broker: dramatiq.Broker, api_url: str, token: str) -> dramatiq.Worker:
    """The in-process worker of `serve` without Redis: same code, StubBroker."""
    settings = WorkerSettings(_env_file=None, worker_api_url=api_url, worker_id="embedded")
    worker = start_worker(broker, settings, token)
    log.warning(
        "embedded_render_worker",
        message="cloud renders run in this process on one worker thread (no "
        "PHOTOFLUX_REDIS_URL); use Redis and `photoflux-cloud worker` to scale out",
    )
    return worker
