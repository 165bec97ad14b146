"""E-mail a result to a lead who asked for it (`POST /api/deliveries`), and its status.

The recipient is always a lead named by id, and only one the sending device recorded
itself within `PHOTOFLUX_DELIVERY_LEAD_HOURS`; a few deliveries per lead a day and hourly
and daily caps per device and per studio bound what a leaked device token could send."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import anyio.to_thread
import structlog
from fastapi import APIRouter, Response

from cloud_api.api import attachments
from cloud_api.api.context import AppContext
from cloud_api.api.deps import Ctx, CurrentPrincipal, DeliveryWriter, own_studio
from cloud_api.api.guarded_route import GuardedRoute
from cloud_api.api.principal import Principal
from cloud_api.api.schemas import DeliveryIn, DeliveryOut
from cloud_api.core.errors import ERROR_RESPONSES, ApiError, documented
from cloud_api.store import deliveries, leads
from cloud_api.store.clock import utcnow

router = APIRouter(
    prefix="/api/deliveries",
    tags=["deliveries"],
    route_class=GuardedRoute,
    responses=ERROR_RESPONSES,
)
log = structlog.get_logger("cloud_api.deliveries")
NOT_CONFIGURED = "waiting: this server has no SMTP server configured (PHOTOFLUX_SMTP_HOST)"
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def delivery_out(doc: dict[str, Any]) -> DeliveryOut:
    return DeliveryOut(
        id=doc["_id"].split(":", 1)[1],
        lead_id=doc["lead_id"],
        status=doc["status"],
        attempts=doc["attempts"],
        created_at=doc["created_at"],
        sent_at=doc["sent_at"],
        last_error=doc["last_error"],
    )


def _caps(ctx: AppContext, studio_id: str, device_id: str, lead_id: str) -> list[deliveries.Cap]:
    s = ctx.settings
    Cap = deliveries.Cap
    return [
        Cap("per lead per day", {"lead_id": lead_id}, DAY, s.delivery_per_lead),
        Cap("per device per hour", {"device_id": device_id}, HOUR, s.delivery_device_hourly),
        Cap("per device per day", {"device_id": device_id}, DAY, s.delivery_device_daily),
        Cap("per studio per hour", {"studio_id": studio_id}, HOUR, s.delivery_studio_hourly),
        Cap("per studio per day", {"studio_id": studio_id}, DAY, s.delivery_studio_daily),
    ]


async def _check_allowed(ctx: AppContext, device: Principal, studio_id: str, lead_id: str) -> None:
    window = timedelta(hours=ctx.settings.delivery_lead_hours)
    recorded = await ctx.storage.run(leads.recorded_by, lead_id, device.id, utcnow() - window)
    if not recorded:
        raise ApiError(
            404,
            f"no lead with this id recorded by this device in the last "
            f"{ctx.settings.delivery_lead_hours:g} hours; record the lead on this device first",
        )
    caps = _caps(ctx, studio_id, device.id, lead_id)
    reached = await ctx.storage.run(deliveries.first_cap_reached, caps)
    if reached is not None:
        await _refuse_capped(ctx, device, studio_id, reached)


async def _refuse_capped(
    ctx: AppContext, device: Principal, studio_id: str, reached: tuple[deliveries.Cap, float]
) -> None:
    cap, wait = reached
    await ctx.storage.run(deliveries.record_cap_reached, studio_id, device.id, cap.name)
    ctx.metrics.deliveries.labels(outcome="capped").inc()
    log.warning("delivery_cap_reached", device_id=device.id, studio_id=studio_id, cap=cap.name)
    retry = math.ceil(wait)
    raise ApiError(
        429,
        f"delivery limit reached ({cap.limit} {cap.name}); retry in {retry} s",
        {"Retry-After": str(retry)},
    )


@router.post(
    "",
    status_code=202,
    response_model=DeliveryOut,
    responses={200: {"model": DeliveryOut, "description": "already queued or sent"}}
    | documented(404),
)
async def create_delivery(
    body: DeliveryIn, response: Response, ctx: Ctx, device: DeliveryWriter
) -> DeliveryOut:
    """Queues an e-mail with the image to a lead this device recorded. Answers 202 at
    once; the status moves from `queued` to `sent` (or `failed` after retries). The same
    `id` again is safe. The image is decoded and re-encoded; the attachment's extension
    follows its real format. Without an SMTP server configured, deliveries wait."""
    studio_id = own_studio(device)
    existing = await ctx.storage.run(deliveries.get, studio_id, str(body.id))
    if existing is not None and existing["lead_id"] == body.lead_id:
        response.status_code = 200  # a retry of a request that already got through
        return delivery_out(existing)
    # who may mail whom first: decoding costs up to a few hundred MB and seconds of CPU,
    # which a device must not be able to spend on deliveries it may not make
    await _check_allowed(ctx, device, studio_id, body.lead_id)
    raw = attachments.decode_base64(body.image, ctx.settings.delivery_max_bytes)
    clean = await anyio.to_thread.run_sync(
        attachments.reencode, raw, ctx.settings.delivery_max_pixels, limiter=ctx.image_work
    )
    meta: dict[str, Any] = {
        "filename": attachments.attachment_name(body.filename, clean.extension),
        "style": body.style,
        "image_subtype": clean.subtype,
        "device_id": device.id,
    }
    if not ctx.settings.smtp_host:
        meta["last_error"] = NOT_CONFIGURED
    # the check above refuses early, before decoding; this one holds against requests
    # racing for the last room (they all passed the early check together)
    doc, created, reached = await ctx.storage.run(
        deliveries.enqueue_capped,
        _caps(ctx, studio_id, device.id, body.lead_id),
        studio_id,
        str(body.id),
        body.lead_id,
        image=clean.data,
        meta=meta,
    )
    if reached is not None:
        await _refuse_capped(ctx, device, studio_id, reached)
    assert doc is not None  # refused above otherwise
    if created:
        ctx.metrics.deliveries.labels(outcome="queued").inc()
        if ctx.sender is not None:
            ctx.sender.wake()
    else:
        response.status_code = 200
    return delivery_out(doc)


@router.get("/{delivery_id}", response_model=DeliveryOut, responses=documented(404))
async def get_delivery(
    delivery_id: str, ctx: Ctx, principal: CurrentPrincipal, studio_id: str | None = None
) -> DeliveryOut:
    if not (principal.may("deliveries:write") or principal.may("leads:read")):
        raise ApiError(403, "this token may not do that (needs scope deliveries:write)")
    studio = principal.studio_filter or studio_id
    doc = None if studio is None else await ctx.storage.run(deliveries.get, studio, delivery_id)
    if doc is None:
        raise ApiError(404, "no such delivery")
    return delivery_out(doc)
