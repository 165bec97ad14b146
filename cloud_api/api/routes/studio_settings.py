"""What a studio admin sets for their studio: the consent texts its devices show, and
the webhook that tells its CRM about new leads (with the log of what was sent)."""

from __future__ import annotations

import secrets
from typing import Any

import structlog
from fastapi import APIRouter, Response

from cloud_api.api.deps import Ctx, CurrentPrincipal, DeviceManager, own_studio
from cloud_api.api.guarded_route import GuardedRoute
from cloud_api.api.principal import Principal
from cloud_api.api.schemas import (
    ConsentTextsIn,
    ConsentTextsOut,
    WebhookDeliveryOut,
    WebhookIn,
    WebhookOut,
)
from cloud_api.api.webhook_sender import secret_context
from cloud_api.core import urlguard
from cloud_api.core.errors import ERROR_RESPONSES, ApiError, documented
from cloud_api.store import accounts, webhooks

router = APIRouter(tags=["studio settings"], route_class=GuardedRoute, responses=ERROR_RESPONSES)
log = structlog.get_logger("cloud_api.studio_settings")


async def _studio(ctx: Ctx, principal: Principal, studio_id: str) -> dict[str, Any]:
    studio = await ctx.storage.run(accounts.get_studio, studio_id)
    if studio is None or not principal.may_access_studio(studio_id):
        raise ApiError(404, "no such studio")
    return studio


# ---- consent texts ---------------------------------------------------------------------
@router.get("/api/studio/consent-texts", response_model=ConsentTextsOut)
async def my_consent_texts(ctx: Ctx, principal: CurrentPrincipal) -> ConsentTextsOut:
    """The calling device's studio's consent texts (null where the studio set none)."""
    studio = await ctx.storage.run(accounts.get_studio, own_studio(principal))
    return ConsentTextsOut(**((studio or {}).get("consent_texts") or {}))


@router.get(
    "/api/studios/{studio_id}/consent-texts",
    response_model=ConsentTextsOut,
    responses=documented(404),
)
async def get_consent_texts(studio_id: str, ctx: Ctx, principal: DeviceManager) -> ConsentTextsOut:
    studio = await _studio(ctx, principal, studio_id)
    return ConsentTextsOut(**(studio.get("consent_texts") or {}))


@router.put(
    "/api/studios/{studio_id}/consent-texts",
    response_model=ConsentTextsOut,
    responses=documented(404, 409),
)
async def set_consent_texts(
    studio_id: str, body: ConsentTextsIn, ctx: Ctx, principal: DeviceManager
) -> ConsentTextsOut:
    """Sets the texts devices show. A changed text needs a new version id: each lead
    records the version it was given to."""
    await _studio(ctx, principal, studio_id)
    texts = body.model_dump()
    try:
        await ctx.storage.run(accounts.set_consent_texts, studio_id, texts)
    except accounts.ConsentVersionReused as exc:
        raise ApiError(
            409,
            f"{exc}: this version was already used for another wording; a changed text "
            "needs a new version (leads record the version they agreed to)",
        ) from exc
    log.info("consent_texts_set", studio_id=studio_id, by=principal.audit_name)
    return ConsentTextsOut(**texts)


# ---- webhook ---------------------------------------------------------------------------
def _webhook_out(endpoint: dict | None, secret: str | None = None) -> WebhookOut:
    if endpoint is None:
        return WebhookOut(url=None, secret=None, updated_at=None)
    return WebhookOut(url=endpoint["url"], secret=secret, updated_at=endpoint["updated_at"])


async def set_webhook(ctx: Ctx, studio_id: str, url: str, secret: str | None) -> WebhookOut:
    """Checks the URL (SSRF), seals the secret (made here when none is given) and stores
    both; answers the secret once. Shared by the API and the dashboard."""
    try:
        urlguard.check_url(url, allow_loopback=ctx.settings.webhook_allow_loopback)
    except urlguard.UnsafeUrl as exc:
        raise ApiError(422, f"url: {exc}") from exc
    secret = secret or secrets.token_urlsafe(32)
    sealed = ctx.cipher.encrypt(secret, secret_context(studio_id))
    endpoint = await ctx.storage.run(webhooks.set_endpoint, studio_id, url, sealed)
    return _webhook_out(endpoint, secret)


@router.get(
    "/api/studios/{studio_id}/webhook", response_model=WebhookOut, responses=documented(404)
)
async def get_webhook(studio_id: str, ctx: Ctx, principal: DeviceManager) -> WebhookOut:
    """The studio's webhook URL (the secret is never shown again)."""
    await _studio(ctx, principal, studio_id)
    return _webhook_out(await ctx.storage.run(webhooks.endpoint, studio_id))


@router.put(
    "/api/studios/{studio_id}/webhook", response_model=WebhookOut, responses=documented(404)
)
async def put_webhook(
    studio_id: str, body: WebhookIn, ctx: Ctx, principal: DeviceManager
) -> WebhookOut:
    """Sets where new leads are POSTed, signed with `secret` (HMAC-SHA256). Public
    https addresses only."""
    await _studio(ctx, principal, studio_id)
    answer = await set_webhook(ctx, studio_id, body.url, body.secret)
    log.info("webhook_set", studio_id=studio_id, by=principal.audit_name)
    return answer


@router.delete(
    "/api/studios/{studio_id}/webhook",
    status_code=204,
    response_class=Response,
    responses=documented(404),
)
async def delete_webhook(studio_id: str, ctx: Ctx, principal: DeviceManager) -> Response:
    await _studio(ctx, principal, studio_id)
    await ctx.storage.run(webhooks.clear_endpoint, studio_id)
    return Response(status_code=204)


def delivery_out(doc: dict[str, Any]) -> WebhookDeliveryOut:
    return WebhookDeliveryOut(
        id=doc["_id"],
        lead_id=doc["lead_id"],
        status=doc["status"],
        attempts=doc["attempts"],
        created_at=doc["created_at"],
        last_error=doc["last_error"],
        log=doc["log"],
    )


@router.get(
    "/api/studios/{studio_id}/webhook/deliveries",
    response_model=list[WebhookDeliveryOut],
    responses=documented(404),
)
async def webhook_deliveries(
    studio_id: str, ctx: Ctx, principal: DeviceManager
) -> list[WebhookDeliveryOut]:
    """The last 50 webhook deliveries, newest first, with each attempt's outcome."""
    await _studio(ctx, principal, studio_id)
    docs = await ctx.storage.run(webhooks.recent, studio_id)
    return [delivery_out(d) for d in docs]


async def fire_lead(ctx: Ctx, studio_id: str, lead_id: str, event: str) -> None:
    """Queues a webhook delivery for a recorded lead when the studio has a webhook."""
    if await ctx.storage.run(webhooks.endpoint, studio_id) is None:
        return
    await ctx.storage.run(webhooks.enqueue, studio_id, lead_id, event)
    if ctx.webhooks is not None:
        ctx.webhooks.wake()
