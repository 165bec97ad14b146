"""The render queue: Dramatiq on Redis, or its in-process StubBroker when no
`PHOTOFLUX_REDIS_URL` is set (one process: the API plus its embedded worker thread).

The API only enqueues; it never imports the actor (that lives with the engine in
cloud_api/worker). A message carries no job: a worker claims the fairest job when it
takes one (store/render_jobs.py), so the message is a unit of work to be done.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage

QUEUE = "renders"
ACTOR = "render_job"
NAMESPACE = "photoflux"


def make_broker(
    redis_url: str | None, heartbeat_ms: int, maintenance_chance: int
) -> dramatiq.Broker:
    """The broker both sides build from the same settings: Redis's heartbeat timeout
    decides when a silent worker's messages go back to the queue, and any broker's
    call may run that maintenance, so API and workers must agree on it."""
    if redis_url:
        broker: dramatiq.Broker = RedisBroker(
            url=redis_url,
            namespace=NAMESPACE,
            heartbeat_timeout=heartbeat_ms,
            maintenance_chance=maintenance_chance,
        )
    else:
        broker = StubBroker()
    broker.add_middleware(CurrentMessage())
    broker.declare_queue(QUEUE)
    return broker


class RenderQueue:
    def __init__(self, broker: dramatiq.Broker, embedded: bool) -> None:
        self.broker = broker
        self.embedded = embedded

    def enqueue(self, job_id: str) -> str:
        """Adds one unit of work (hinting the job it was made for); returns its id."""
        message = dramatiq.Message(
            queue_name=QUEUE,
            actor_name=ACTOR,
            args=(),
            kwargs={"job_hint": job_id},
            options={},
        )
        return self.broker.enqueue(message).message_id

    def close(self) -> None:
        self.broker.close()
