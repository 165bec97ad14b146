"""`/api/worker/*`: how render workers take jobs and report back.

Workers never touch the database or hold the API's secrets: they present one bearer
token (`PHOTOFLUX_WORKER_TOKEN`), claim a job for the queue message they hold, fetch
its photo, report progress (and learn of a cancel) once per step, and send the result
or the failure. A report from a message that no longer owns the job is ignored
(a worker presumed dead that comes back cannot overwrite its successor's work)."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import time
from datetime import timedelta
from typing import Annotated, Any

import anyio.to_thread
import structlog
from fastapi import APIRouter, Depends, File, Form, Header, Query, Response, UploadFile

from cloud_api.api.deps import Ctx
from cloud_api.api.guarded_route import GuardedRoute
from cloud_api.api.render_schemas import (
    ClaimIn,
    ClaimOut,
    FailIn,
    FailOut,
    FinishOut,
    ProgressIn,
    ProgressOut,
)
from cloud_api.api.routes.renders import _update_depth
from cloud_api.core.errors import ERROR_RESPONSES, ApiError, documented
from cloud_api.store import render_jobs
from cloud_api.store.clock import utcnow

log = structlog.get_logger("cloud_api.render_worker")
PREVIEW_MAX_BYTES = 512 * 1024
META_MAX_CHARS = 64 * 1024


async def worker_auth(
    ctx: Ctx, authorization: Annotated[str | None, Header(include_in_schema=False)] = None
) -> None:
    expected = ctx.worker_token
    if not expected:
        raise ApiError(503, "no PHOTOFLUX_WORKER_TOKEN is set: workers cannot report")
    given = (authorization or "").removeprefix("Bearer ").encode()
    if not hmac.compare_digest(given, expected.encode()):
        raise ApiError(
            401, "render workers send PHOTOFLUX_WORKER_TOKEN", {"WWW-Authenticate": "Bearer"}
        )


router = APIRouter(
    prefix="/api/worker",
    tags=["render workers"],
    route_class=GuardedRoute,
    dependencies=[Depends(worker_auth)],
    responses=ERROR_RESPONSES | {503: {"description": "no worker token configured"}},
)


def _ttl(ctx: Ctx) -> timedelta:
    return timedelta(hours=ctx.settings.render_ttl_hours)


def _seen(ctx: Ctx, worker_id: str) -> None:
    ctx.workers_seen[worker_id] = time.monotonic()


def _finished(ctx: Ctx, job: dict[str, Any] | None) -> None:
    if job is None or job.get("finished_at") is None:
        return
    outcome = job["status"]
    ctx.metrics.renders.jobs.labels(outcome=outcome).inc()
    seconds = (job["finished_at"] - job["created_at"]).total_seconds()
    ctx.metrics.renders.latency.labels(outcome=outcome).observe(seconds)
    log.info("render_finished", job_id=job["_id"], status=outcome, seconds=round(seconds, 3))


@router.post("/claim", response_model=ClaimOut, responses={204: {"description": "no job"}})
async def claim(body: ClaimIn, ctx: Ctx, response: Response) -> ClaimOut | Response:
    """The job this message runs: the one it already holds (a redelivery or retry), or
    the fairest queued one; 204 when there is none."""
    _seen(ctx, body.worker_id)
    job = await ctx.storage.run(
        render_jobs.claim,
        body.message_id,
        ctx.settings.render_attempts,
        _ttl(ctx),
        body.worker_id,
    )
    await _update_depth(ctx)
    if job is None:
        return Response(status_code=204)
    if job["attempts"] == 1:
        waited = (utcnow() - job["created_at"]).total_seconds()
        ctx.metrics.renders.wait.observe(waited)
    log.info("render_started", job_id=job["_id"], attempt=job["attempts"], worker=body.worker_id)
    return ClaimOut(
        job_id=job["_id"],
        request=job["request"],
        attempts=job["attempts"],
        attempts_allowed=ctx.settings.render_attempts,
    )


@router.get(
    "/photo",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}} | documented(404),
)
async def photo(ctx: Ctx, job_id: Annotated[str, Query(max_length=64)]) -> Response:
    """The (re-encoded) photo of a job."""
    job = await ctx.storage.run(render_jobs.get_any, job_id)
    data = (
        None if job is None else await anyio.to_thread.run_sync(ctx.objects.get, job["upload_key"])
    )
    if data is None:
        raise ApiError(404, "the job's photo is gone (expired upload)")
    return Response(data, media_type="image/png")


@router.post("/progress", response_model=ProgressOut, responses=documented(404))
async def progress(body: ProgressIn, ctx: Ctx) -> ProgressOut:
    """Step i of n and the latest preview; answers whether the job was cancelled."""
    _seen(ctx, body.worker_id)
    preview_key = None
    if body.preview_jpeg:
        try:
            data = base64.b64decode(body.preview_jpeg, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ApiError(422, "preview_jpeg must be base64") from exc
        if len(data) > PREVIEW_MAX_BYTES or not data.startswith(b"\xff\xd8"):
            raise ApiError(422, "preview_jpeg must be a JPEG under 512 KiB")
        preview_key = f"renders/{body.job_id}/preview.jpg"
        expires = utcnow() + _ttl(ctx) + timedelta(hours=1)
        await anyio.to_thread.run_sync(ctx.objects.put, preview_key, data, expires)
    job = await ctx.storage.run(
        render_jobs.record_progress,
        body.job_id,
        body.message_id,
        step=body.step,
        steps=body.steps,
        stage=body.stage,
        preview_key=preview_key,
    )
    if job is None:  # cancelled while queued, or no longer this message's: stop
        return ProgressOut(cancel=True)
    return ProgressOut(cancel=bool(job.get("cancel_requested")))


@router.post("/result", response_model=FinishOut, responses=documented(404, 413))
async def result(
    ctx: Ctx,
    job_id: Annotated[str, Form(max_length=64)],
    message_id: Annotated[str, Form(max_length=64)],
    worker_id: Annotated[str, Form(max_length=128)],
    meta: Annotated[str, Form(max_length=META_MAX_CHARS)],
    image: Annotated[UploadFile | None, File()] = None,
) -> FinishOut:
    """The finished image (PNG) and its seed, timings and checks; without `image`, the
    job was cancelled on the worker."""
    _seen(ctx, worker_id)
    try:
        info = json.loads(meta)
    except ValueError as exc:
        raise ApiError(422, "meta must be JSON") from exc
    if not isinstance(info, dict):
        raise ApiError(422, "meta must be a JSON object")
    if image is None:
        job = await ctx.storage.run(render_jobs.cancelled, job_id, message_id, _ttl(ctx))
    else:
        data = await image.read()
        if not data.startswith(b"\x89PNG\r\n\x1a\n"):
            raise ApiError(422, "image must be a PNG")
        key = f"renders/{job_id}/result.png"
        expires = utcnow() + _ttl(ctx) + timedelta(hours=1)
        await anyio.to_thread.run_sync(ctx.objects.put, key, data, expires)
        job = await ctx.storage.run(
            render_jobs.succeed, job_id, message_id, image_key=key, meta=info, ttl=_ttl(ctx)
        )
    _finished(ctx, job)
    await _update_depth(ctx)
    if job is None:
        current = await ctx.storage.run(render_jobs.get_any, job_id)
        if current is None:
            raise ApiError(404, "no such render job")
        return FinishOut(status=current["status"])
    return FinishOut(status=job["status"])


@router.post("/fail", response_model=FailOut, responses=documented(404))
async def fail(body: FailIn, ctx: Ctx) -> FailOut:
    """An attempt failed. A transient failure with attempts left goes back to the queue
    (the worker's message retries it with backoff); otherwise the job is dead-lettered:
    `failed` with the reason."""
    _seen(ctx, body.worker_id)
    job, final, changed = await ctx.storage.run(
        render_jobs.fail,
        body.job_id,
        body.message_id,
        error={"kind": body.kind, "message": body.message},
        retry=body.retry,
        attempts_allowed=ctx.settings.render_attempts,
        ttl=_ttl(ctx),
    )
    if job is None:
        raise ApiError(404, "no such render job for this message")
    if changed:
        ctx.metrics.renders.failures.labels(kind=body.kind, final=str(final).lower()).inc()
    if changed and final:
        _finished(ctx, job)
    await _update_depth(ctx)
    log.warning("render_attempt_failed", job_id=body.job_id, kind=body.kind, final=final)
    return FailOut(final=final, status=job["status"])
