"""E-mail a result to a lead who asked for it (`POST /api/deliveries`), and its status.

The recipient is always a lead of the sending device's studio, named by id: the service
never mails an address the caller types in, so it cannot be used to send spam."""

from __future__ import annotations

import base64
import binascii
import io
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Response
from PIL import Image, UnidentifiedImageError

from cloud_api.api.deps import Ctx, CurrentPrincipal, DeliveryWriter, own_studio
from cloud_api.api.guarded_route import GuardedRoute
from cloud_api.api.schemas import DeliveryIn, DeliveryOut
from cloud_api.core.errors import ERROR_RESPONSES, ApiError, documented
from cloud_api.store import deliveries, leads

router = APIRouter(
    prefix="/api/deliveries",
    tags=["deliveries"],
    route_class=GuardedRoute,
    responses=ERROR_RESPONSES,
)
SUBTYPES = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp"}
MAX_PIXELS = 60_000_000
NOT_CONFIGURED = "waiting: this server has no SMTP server configured (PHOTOFLUX_SMTP_HOST)"


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


def _decode(encoded: str, limit: int) -> tuple[bytes, str]:
    try:
        image = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(422, "image must be base64 (RFC 4648, no line breaks)") from exc
    if len(image) > limit:
        raise ApiError(413, f"image larger than {limit} bytes; export it smaller")
    try:
        with Image.open(io.BytesIO(image)) as probe:
            kind = probe.format or ""
            if kind not in SUBTYPES or probe.width * probe.height > MAX_PIXELS:
                raise ApiError(422, "image must be a JPEG, PNG or WebP of at most 60 MP")
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ApiError(422, "image is not a readable JPEG, PNG or WebP file") from exc
    return image, SUBTYPES[kind]


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
    """Queues an e-mail with the image to the lead. Answers 202 at once; the status moves
    from `queued` to `sent` (or `failed` after retries). The same `id` again is safe.
    Without an SMTP server configured, deliveries wait in the queue until one is."""
    studio_id = own_studio(device)
    image, subtype = await anyio.to_thread.run_sync(
        _decode, body.image, ctx.settings.delivery_max_bytes
    )
    if await ctx.storage.run(leads.get, body.lead_id, studio_id) is None:
        raise ApiError(404, "no such lead in this studio; record the lead first")
    meta: dict[str, Any] = {
        "filename": body.filename,
        "style": body.style,
        "image_subtype": subtype,
        "device_id": device.id,
    }
    if not ctx.settings.smtp_host:
        meta["last_error"] = NOT_CONFIGURED
    doc, created = await ctx.storage.run(
        deliveries.enqueue, studio_id, str(body.id), body.lead_id, image=image, meta=meta
    )
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
