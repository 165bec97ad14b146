"""`POST /api/shares`: a device registers a QR code's token, then sends its image.

The token arrives alone first (a few hundred bytes, sent as soon as the QR code is on
screen), so the public page (`cloud_api/share_page`) says "your photo is on its way"
while the image is still uploading; the same request with `image` attaches it. Only the
token's SHA-256 is stored."""

from __future__ import annotations

from datetime import timedelta

import anyio.to_thread
import structlog
from fastapi import APIRouter, Response

from cloud_api.api import attachments
from cloud_api.api.deps import Ctx, DeliveryWriter, own_studio
from cloud_api.api.guarded_route import GuardedRoute
from cloud_api.api.schemas import ShareIn, ShareOut
from cloud_api.core.errors import ERROR_RESPONSES, ApiError, documented
from cloud_api.store import shares
from cloud_api.store.clock import utcnow

router = APIRouter(
    prefix="/api/shares", tags=["shares"], route_class=GuardedRoute, responses=ERROR_RESPONSES
)
log = structlog.get_logger("cloud_api.shares")
CAP_RETRY_S = 3600


def share_out(doc: dict) -> ShareOut:
    return ShareOut(
        id=doc["_id"].split(":", 1)[1],
        status="ready" if doc.get("image_at") else "waiting",
        created_at=doc["created_at"],
        expires_at=doc["expires_at"],
    )


async def _within_daily_cap(ctx: Ctx, studio_id: str) -> None:
    """Refuses a new share (429) once the studio registered `SHARE_STUDIO_DAILY` in the
    last 24 hours; a share already registered may still get its image."""
    cap = ctx.settings.share_studio_daily
    since = utcnow() - timedelta(days=1)
    if await ctx.storage.run(shares.count_since, studio_id, since) < cap:
        return
    log.warning("share_cap_reached", studio_id=studio_id, cap=cap)
    raise ApiError(
        429,
        f"share limit reached ({cap} a day for this studio); retry in {CAP_RETRY_S} s",
        {"Retry-After": str(CAP_RETRY_S)},
    )


@router.post(
    "",
    status_code=201,
    response_model=ShareOut,
    responses={200: {"model": ShareOut, "description": "already registered"}}
    | documented(409, 429),
)
async def post_share(
    body: ShareIn, response: Response, ctx: Ctx, device: DeliveryWriter
) -> ShareOut:
    """Registers the share (201), or finds it again by `id` (200); with `image`, attaches
    the image if it has none yet. The image is decoded and re-encoded like a delivery's;
    it and the token expire after `SHARE_TTL_HOURS`."""
    studio_id = own_studio(device)
    digest = shares.token_hash(body.token)
    if await ctx.storage.run(shares.get, studio_id, str(body.id)) is None:
        await _within_daily_cap(ctx, studio_id)
    try:
        write = await ctx.storage.run(
            shares.register,
            studio_id,
            device.id,
            str(body.id),
            digest=digest,
            campaign=body.campaign,
            ttl=timedelta(hours=ctx.settings.share_ttl_hours),
        )
    except shares.ShareConflict as exc:
        raise ApiError(
            409, "this share id or token is already used; make a new token for every share"
        ) from exc
    doc = write.doc
    if body.image is not None and doc.get("image_at") is None:
        raw = attachments.decode_base64(body.image, ctx.settings.share_max_bytes)
        clean = await anyio.to_thread.run_sync(
            attachments.reencode, raw, ctx.settings.delivery_max_pixels, limiter=ctx.image_work
        )
        doc = await ctx.storage.run(shares.attach_image, doc, clean.data, clean.subtype)
        log.info("share_image", share_id=doc["_id"], studio_id=studio_id)
    if not write.created:
        response.status_code = 200
    return share_out(doc)
