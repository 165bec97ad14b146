"""Cloud renders: `POST /api/upload`, `POST /api/generate`, `GET /api/results/{id}`
(+ preview, signed image, cancel). The HTTP contract is CLOUD_RENDER_CONTRACT.md.

Everything belongs to the caller's studio; another studio's upload or job is a 404."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import anyio.to_thread
import structlog
from fastapi import APIRouter, File, Query, Request, Response, UploadFile

from cloud_api.api import render_input
from cloud_api.api.deps import Ctx, CurrentPrincipal, own_studio
from cloud_api.api.guarded_route import GuardedRoute
from cloud_api.api.render_schemas import (
    CancelOut,
    GenerateIn,
    GenerateOut,
    JobError,
    ResultOut,
    UploadOut,
)
from cloud_api.core import malware
from cloud_api.core.errors import ERROR_RESPONSES, ApiError, documented
from cloud_api.store import render_jobs
from cloud_api.store.clock import utcnow

router = APIRouter(tags=["renders"], route_class=GuardedRoute, responses=ERROR_RESPONSES)
log = structlog.get_logger("cloud_api.renders")
READ_CHUNK = 1024 * 1024
PNG = "image/png"


async def _read_limited(file: UploadFile, limit: int) -> bytes:
    chunks, seen = [], 0
    while chunk := await file.read(READ_CHUNK):
        seen += len(chunk)
        if seen > limit:
            raise ApiError(413, f"the photo is larger than {limit} bytes; send a smaller one")
        chunks.append(chunk)
    return b"".join(chunks)


async def _scan(ctx: Ctx, data: bytes, studio_id: str, principal: str) -> None:
    try:
        await anyio.to_thread.run_sync(malware.scan_upload, data, ctx.settings)
    except malware.MalwareFound as exc:
        await ctx.storage.run(_audit_infected, studio_id, principal, exc.signature)
        log.warning("upload_infected", studio_id=studio_id, signature=exc.signature)
        raise ApiError(422, f"the upload was refused: malware found ({exc.signature})") from exc
    except malware.ScannerUnavailable as exc:
        log.error("scanner_unavailable", error=str(exc))
        raise ApiError(503, "the malware scanner is unavailable; try again shortly") from exc


def _audit_infected(db: Any, studio_id: str, principal: str, signature: str) -> None:
    db.audit.insert_one(
        {
            "_id": uuid.uuid4().hex,
            "studio_id": studio_id,
            "action": "upload.malware",
            "actor": principal,
            "detail": signature,
            "at": utcnow(),
        }
    )


@router.post(
    "/api/upload",
    status_code=201,
    response_model=UploadOut,
    responses=documented(404, 413, 415, 422) | {503: {"description": "scanner unavailable"}},
)
async def upload(
    ctx: Ctx, principal: CurrentPrincipal, file: Annotated[UploadFile, File()]
) -> UploadOut:
    """A photo for cloud renders (multipart field `file`): checked by the engine's intake
    (type from the bytes, size and pixel limits), scanned for malware when a scanner is
    configured, re-encoded as PNG and kept for `PHOTOFLUX_UPLOAD_TTL_HOURS`."""
    studio_id = own_studio(principal)
    settings = ctx.settings
    data = await _read_limited(file, settings.upload_max_bytes)
    await _scan(ctx, data, studio_id, principal.audit_name)
    clean = await anyio.to_thread.run_sync(
        render_input.clean_upload,
        data,
        settings.upload_max_bytes,
        settings.upload_max_pixels,
        limiter=ctx.image_work,
    )
    ttl = timedelta(hours=settings.upload_ttl_hours)
    doc = await ctx.storage.run(
        render_jobs.create_upload, studio_id, clean.width, clean.height, ttl
    )
    await anyio.to_thread.run_sync(ctx.objects.put, doc["key"], clean.png, doc["expires_at"])
    return UploadOut(
        upload_id=doc["_id"],
        width=clean.width,
        height=clean.height,
        expires_at=_utc(doc["expires_at"]),
    )


async def _enqueue(ctx: Ctx, job: dict[str, Any]) -> None:
    try:
        await anyio.to_thread.run_sync(ctx.queue.enqueue, job["_id"])
    except Exception as exc:  # Redis down: the job stays queued; a retry enqueues it
        log.error("enqueue_failed", job_id=job["_id"], error=str(exc))
        raise ApiError(
            503, "the render queue is unavailable; retry with the same client_request_id"
        ) from exc
    await ctx.storage.run(render_jobs.mark_enqueued, job["_id"])
    await _update_depth(ctx)


async def _update_depth(ctx: Ctx) -> None:
    depth = await ctx.storage.run(render_jobs.queue_depth)
    ctx.metrics.renders.set_depth(depth, ctx.live_workers())


def _utc(when: datetime | None) -> datetime | None:
    """Stored times are UTC; the embedded store hands them back without a zone."""
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def _accepted(job: dict[str, Any]) -> GenerateOut:
    return GenerateOut(job_id=job["_id"], status=job["status"], created_at=_utc(job["created_at"]))


@router.post(
    "/api/generate",
    status_code=202,
    response_model=GenerateOut,
    responses=documented(404, 422, 429) | {503: {"description": "queue unavailable"}},
)
async def generate(body: GenerateIn, ctx: Ctx, principal: CurrentPrincipal) -> GenerateOut:
    """Queues a render of an upload; 202 with the job id. The same `client_request_id`
    again answers the same job. Quotas per studio: `PHOTOFLUX_RENDER_CONCURRENT` queued
    or running, `PHOTOFLUX_RENDER_DAILY` a UTC day (429 with Retry-After)."""
    studio_id = own_studio(principal)
    crid = body.client_request_id
    existing = await ctx.storage.run(render_jobs.find_by_request_id, studio_id, crid)
    if existing is not None:
        if existing["enqueued_at"] is None and existing["status"] == render_jobs.QUEUED:
            await _enqueue(ctx, existing)
        return _accepted(existing)
    if body.upload_id is None:
        raise ApiError(422, "upload_id: cloud renders start from a photo; upload one first")
    upload = await ctx.storage.run(render_jobs.find_upload, studio_id, body.upload_id)
    photo = (
        None if upload is None else await anyio.to_thread.run_sync(ctx.objects.get, upload["key"])
    )
    if upload is None or photo is None:
        raise ApiError(404, "no such upload (unknown, expired or not your studio's)")
    await anyio.to_thread.run_sync(
        render_input.check_request, body.request, photo, limiter=ctx.image_work
    )
    settings = ctx.settings
    try:
        await ctx.storage.run(
            render_jobs.reserve, studio_id, settings.render_concurrent, settings.render_daily
        )
    except render_jobs.QuotaExceeded as exc:
        ctx.metrics.rate_limited.labels(scope=f"render_{exc.which}").inc()
        what = "jobs queued or running" if exc.which == "concurrent" else "jobs today"
        raise ApiError(
            429,
            f"render quota reached ({exc.limit} {what} for this studio); "
            f"retry in {exc.retry_after} s",
            {"Retry-After": str(exc.retry_after)},
        ) from exc
    job, created = await ctx.storage.run(
        render_jobs.create_job,
        studio_id,
        principal.audit_name,
        crid,
        upload=upload,
        wire=body.request,
    )
    if not created:
        await ctx.storage.run(render_jobs.release_reservation, studio_id)
        return _accepted(job)
    log.info("render_queued", job_id=job["_id"], studio_id=studio_id)
    await _enqueue(ctx, job)
    return _accepted(job)


# ---- results ---------------------------------------------------------------------------


def _signing_key(ctx: Ctx) -> bytes:
    secret = ctx.settings.secret_key.get_secret_value().encode()
    return hmac.new(secret, b"photoflux render image url", hashlib.sha256).digest()


def _signature(ctx: Ctx, job_id: str, expires: int) -> str:
    mac = hmac.new(
        _signing_key(ctx), f"{job_id}.{expires}".encode("utf-8", "surrogatepass"), hashlib.sha256
    )
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def _image_url(request: Request, ctx: Ctx, job_id: str) -> str:
    expires = int(time.time()) + ctx.settings.render_url_seconds
    sig = _signature(ctx, job_id, expires)
    return f"{str(request.base_url).rstrip('/')}/api/results/{job_id}/image?exp={expires}&sig={sig}"


async def _own_job(ctx: Ctx, principal: CurrentPrincipal, job_id: str) -> dict[str, Any]:
    studio_id = own_studio(principal)
    job = None
    if len(job_id) <= 64:
        job = await ctx.storage.run(render_jobs.get_job, studio_id, job_id)
    if job is None:
        raise ApiError(404, "no such render job")
    return job


def result_out(request: Request, ctx: Ctx, job: dict[str, Any], position: int | None) -> ResultOut:
    job_id = job["_id"]
    done = job["status"] == render_jobs.SUCCEEDED and job.get("image_key")
    error = job.get("error") if job["status"] in (render_jobs.FAILED,) else None
    return ResultOut(
        job_id=job_id,
        status=job["status"],
        step=job.get("step"),
        steps=job.get("steps"),
        stage=job.get("stage"),
        queue_position=position,
        preview_url=f"/api/results/{job_id}/preview" if job.get("preview_key") else None,
        image_url=_image_url(request, ctx, job_id) if done else None,
        error=JobError(**error) if error else None,
        attempts=job.get("attempts", 0),
        seed=job.get("seed"),
        timings=job.get("timings"),
        checks=job.get("checks") or [],
        parameters=job.get("parameters"),
        created_at=_utc(job["created_at"]),
        started_at=_utc(job.get("started_at")),
        finished_at=_utc(job.get("finished_at")),
    )


@router.get("/api/results/{job_id}", response_model=ResultOut, responses=documented(404))
async def results(
    job_id: str, request: Request, ctx: Ctx, principal: CurrentPrincipal
) -> ResultOut:
    """The job's status, progress, latest preview and (once done) a signed image URL."""
    job = await _own_job(ctx, principal, job_id)
    position = await ctx.storage.run(render_jobs.queue_position, job)
    return result_out(request, ctx, job, position)


@router.get(
    "/api/results/{job_id}/preview",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "latest step preview"}}
    | documented(404),
)
async def preview(job_id: str, ctx: Ctx, principal: CurrentPrincipal) -> Response:
    """The latest step preview (JPEG) while the job runs, and after."""
    job = await _own_job(ctx, principal, job_id)
    data = None
    if job.get("preview_key"):
        data = await anyio.to_thread.run_sync(ctx.objects.get, job["preview_key"])
    if data is None:
        raise ApiError(404, "no preview yet")
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get(
    "/api/results/{job_id}/image",
    response_class=Response,
    responses={200: {"content": {PNG: {}}, "description": "the rendered image"}} | documented(404),
)
async def image(
    job_id: str,
    ctx: Ctx,
    exp: Annotated[int, Query(description="expiry, Unix seconds")],
    sig: Annotated[str, Query(max_length=64)],
) -> Response:
    """The final image through the signed URL from results (no bearer token needed)."""
    expected = _signature(ctx, job_id, exp).encode()
    valid = exp > time.time() and hmac.compare_digest(
        sig.encode("utf-8", "surrogatepass"), expected
    )
    job = await ctx.storage.run(render_jobs.get_any, job_id) if valid else None
    data = None
    if job is not None and job["status"] == render_jobs.SUCCEEDED and job.get("image_key"):
        data = await anyio.to_thread.run_sync(ctx.objects.get, job["image_key"])
    if data is None:
        raise ApiError(404, "link invalid or expired; fetch the results again for a new one")
    return Response(data, media_type=PNG, headers={"Cache-Control": "private, max-age=300"})


@router.post(
    "/api/results/{job_id}/cancel",
    status_code=202,
    response_model=CancelOut,
    responses=documented(404),
)
async def cancel(job_id: str, ctx: Ctx, principal: CurrentPrincipal) -> CancelOut:
    """Cancels the job: a queued one at once, a running one within one step."""
    before = await _own_job(ctx, principal, job_id)
    ttl = timedelta(hours=ctx.settings.render_ttl_hours)
    job = await ctx.storage.run(render_jobs.cancel, before, ttl)
    if job["status"] == render_jobs.CANCELLED and before["status"] != render_jobs.CANCELLED:
        ctx.metrics.renders.jobs.labels(outcome="cancelled").inc()
        await _update_depth(ctx)
    return CancelOut(job_id=job["_id"], status=job["status"])
