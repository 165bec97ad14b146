"""One render attempt: claim a job for the current queue message, render it with the
desktop's engine, report progress once per step and the result (or failure) at the end.

Failures are sorted once, here: a request the engine refuses (bad input) or a render
past its time limit fails the job for good; anything else (a model missing on this
machine, out of memory, a crash, the API unreachable) is transient and retried with
backoff by Dramatiq, up to the job's attempt limit (`PHOTOFLUX_RENDER_ATTEMPTS`), after
which the API dead-letters it: `failed` with the reason.
"""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import dramatiq
import structlog
from dramatiq.middleware import CurrentMessage, TimeLimitExceeded

from cloud_api.core.render_queue import ACTOR, QUEUE
from cloud_api.worker.client import ApiUnreachable, Claimed, WorkerClient
from cloud_api.worker.settings import WorkerSettings
from photoflux_desktop.engine.catalog import CATALOG
from photoflux_desktop.engine.errors import ErrorKind, PhotoFluxError, bad_input
from photoflux_desktop.engine.local_renderer import LocalRenderer
from photoflux_desktop.engine.request import (
    CancelToken,
    ProgressEvent,
    RenderRequest,
    Status,
)

log = structlog.get_logger("cloud_api.worker")
PREVIEW_SIDE = 256
HARD_LIMIT_GRACE_S = 60


class TransientFailure(Exception):
    """Raised to Dramatiq so that it retries the message after a backoff."""


class JobRunner:
    """Keeps one LocalRenderer for the life of the process: models stay loaded (warm)
    between jobs. One worker thread per process runs one job at a time (one GPU)."""

    def __init__(self, settings: WorkerSettings, client: WorkerClient) -> None:
        self.settings = settings
        self.client = client
        self.renderer = LocalRenderer()
        self._one_at_a_time = threading.Lock()

    def __call__(self, job_hint: str = "") -> None:
        message = CurrentMessage.get_current_message()
        message_id = message.message_id if message is not None else job_hint
        with self._one_at_a_time:
            self.run(message_id)

    def run(self, message_id: str) -> None:
        claimed = self.client.claim(message_id)
        if claimed is None:
            return  # its job was cancelled or another message ran it: nothing to do
        log.info("job_started", job_id=claimed.job_id, attempt=claimed.attempts)
        try:
            self._render(claimed, message_id)
        except ApiUnreachable:
            raise  # cannot even report: Dramatiq retries the message, the job waits bound
        except PhotoFluxError as exc:
            error = exc.error
            retry = error.kind is not ErrorKind.BAD_INPUT
            self._failed(claimed, message_id, error.kind.value, str(error), retry)
        except TimeLimitExceeded:
            self._failed(claimed, message_id, "time_limit", self._limit_text(), retry=False)
        except Exception as exc:  # a crash in the engine: maybe this machine, maybe the job
            log.exception("job_crashed", job_id=claimed.job_id)
            self._failed(claimed, message_id, "internal", f"{type(exc).__name__}: {exc}", True)

    def _limit_text(self) -> str:
        return f"the render took longer than {self.settings.render_time_limit_seconds:g} s"

    def _failed(self, claimed: Claimed, message_id: str, kind: str, text: str, retry: bool) -> None:
        final = self.client.fail(claimed.job_id, message_id, kind, text, retry)
        log.warning("job_failed", job_id=claimed.job_id, kind=kind, final=final)
        if not final:
            raise TransientFailure(f"{kind}: {text}")

    def _render(self, claimed: Claimed, message_id: str) -> None:
        photo = self.client.photo(claimed.job_id)
        if photo is None:
            self._failed(claimed, message_id, "bad_input", "the job's photo expired", False)
            return
        request = RenderRequest.from_wire(claimed.request, photo)
        if request.model not in (None, "instant") and request.model not in CATALOG:
            raise bad_input(f"model: {request.model!r} is not a catalog model id.")
        cancel = CancelToken()
        progress = _Progress(self, claimed.job_id, message_id, cancel)
        result = self.renderer.render(request, progress, cancel)
        if progress.timed_out:
            self._failed(claimed, message_id, "time_limit", self._limit_text(), retry=False)
            return
        if result.status is Status.CANCELLED or result.image is None:
            self.client.result(claimed.job_id, message_id, None, {})
            log.info("job_cancelled", job_id=claimed.job_id)
            return
        buffer = io.BytesIO()
        result.image.save(buffer, format="PNG")
        meta: dict[str, Any] = {
            "seed": result.seed,
            "timings": {key: round(value, 4) for key, value in result.timings.items()},
            "checks": list(result.checks),
            "steps": result.parameters.steps_run,
            # what ran (backend, model, prompt...): the desktop files it, and its
            # provenance says AI-generated only when a diffusion model made it
            "parameters": result.parameters.to_dict(),
        }
        status = self.client.result(claimed.job_id, message_id, buffer.getvalue(), meta)
        log.info("job_finished", job_id=claimed.job_id, status=status)


class _Progress:
    """The step callback: reports each step (a preview at most every interval) and
    stops the render within one step of a cancel or of the time limit."""

    def __init__(self, runner: JobRunner, job_id: str, message_id: str, cancel: CancelToken):
        self.runner = runner
        self.job_id = job_id
        self.message_id = message_id
        self.cancel = cancel
        self.deadline = time.monotonic() + runner.settings.render_time_limit_seconds
        self.timed_out = False
        self._last_preview = 0.0

    def __call__(self, event: ProgressEvent) -> None:
        if time.monotonic() > self.deadline:
            self.timed_out = True
            self.cancel.cancel()
            return
        preview = None
        interval = self.runner.settings.render_preview_interval_seconds
        if event.preview is not None and time.monotonic() - self._last_preview >= interval:
            preview = _jpeg(event.preview)
            self._last_preview = time.monotonic()
        try:
            cancelled = self.runner.client.progress(
                self.job_id,
                self.message_id,
                step=event.step,
                steps=event.total,
                stage=event.stage.value,
                preview=preview,
            )
        except ApiUnreachable:
            return  # progress is best effort; the result is what must arrive
        if cancelled:
            self.cancel.cancel()


def _jpeg(image: Any) -> bytes:
    small = image.copy()
    small.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    buffer = io.BytesIO()
    small.convert("RGB").save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def register_actor(broker: dramatiq.Broker, runner: JobRunner, settings: WorkerSettings) -> None:
    """The render actor on `broker`: late acknowledgement (Dramatiq acks only after the
    function returns), retries with exponential backoff, and a hard time limit a little
    past the soft one the step callback enforces."""
    dramatiq.actor(
        runner,
        actor_name=ACTOR,
        queue_name=QUEUE,
        broker=broker,
        # the job's own attempt count (API side) is the real limit; this only backstops
        max_retries=100,
        min_backoff=max(1, settings.render_retry_min_ms),
        max_backoff=max(1, settings.render_retry_max_ms),
        time_limit=int((settings.render_time_limit_seconds + HARD_LIMIT_GRACE_S) * 1000),
        retry_when=lambda _retries, exc: isinstance(exc, TransientFailure | ApiUnreachable),
    )
