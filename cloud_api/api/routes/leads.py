"""Leads: devices record them (consent required); admins list, export and erase them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Query, Response

from cloud_api.api.deps import Ctx, LeadEraser, LeadReader, LeadWriter, own_studio, studio_scope
from cloud_api.api.guarded_route import GuardedRoute
from cloud_api.api.principal import Principal
from cloud_api.api.routes.deliveries import delivery_out
from cloud_api.api.routes.studio_settings import delivery_out as webhook_delivery_out
from cloud_api.api.routes.studio_settings import fire_lead
from cloud_api.api.schemas import ConsentOut, LeadExport, LeadIn, LeadOut, LeadPage, LeadReceipt
from cloud_api.core.errors import ERROR_RESPONSES, ApiError, documented
from cloud_api.core.fieldcrypt import normalise_email
from cloud_api.store import deliveries, leads, webhooks

router = APIRouter(
    prefix="/api/leads", tags=["leads"], route_class=GuardedRoute, responses=ERROR_RESPONSES
)
log = structlog.get_logger("cloud_api.leads")


@router.post(
    "",
    response_model=LeadReceipt,
    status_code=201,
    responses={200: {"model": LeadReceipt, "description": "this id was already recorded"}}
    | documented(409),
)
async def record_lead(
    body: LeadIn, response: Response, ctx: Ctx, device: LeadWriter
) -> LeadReceipt:
    """Records a lead. Sending the same `id` again is safe and answers 200 with the same
    lead. A new `id` answers 201 `created` whether or not the studio already knows the
    address: a stored lead is never overwritten; its new consent is recorded alongside."""
    studio_id = own_studio(device)
    try:
        write = await ctx.storage.run(
            leads.record_lead,
            ctx.cipher,
            studio_id,
            device.id if device.kind == "device" else None,
            leads.LeadInput(
                client_id=str(body.id),
                email=str(body.email),
                name=body.name or None,
                source=body.source,
                consent_text_version=body.consent_text_version,
                consented_at=body.consented_at,
                marketing=body.marketing,
                marketing_text_version=body.marketing_text_version,
                marketing_consented_at=body.marketing_consented_at,
                campaign=body.campaign,
            ),
        )
    except leads.ClientIdReused as exc:
        raise ApiError(
            409,
            "this lead id was already used for another address; "
            "generate a new id for every new lead",
        ) from exc
    outcome = "updated" if write.status == "created" and not write.new else write.status
    ctx.metrics.leads.labels(status=outcome).inc()
    log.info("lead", lead_id=write.lead_id, status=outcome, studio_id=studio_id)
    if write.status == "created":  # the studio's CRM hears of it (when it set a webhook)
        event = "lead.created" if write.new else "lead.consent_added"
        await fire_lead(ctx, studio_id, write.lead_id, event)
    else:
        response.status_code = 200
    return LeadReceipt(id=write.lead_id, status=write.status)  # type: ignore[arg-type]


@router.get("", response_model=LeadPage)
async def list_leads(
    ctx: Ctx,
    principal: LeadReader,
    studio_id: Annotated[str | None, Query(max_length=64)] = None,
    email: Annotated[str | None, Query(max_length=254, description="find one person")] = None,
    campaign: Annotated[str | None, Query(max_length=80, description="one campaign's")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(pattern=leads.CURSOR_PATTERN)] = None,
) -> LeadPage:
    """Consenting leads, newest first, e-mail and name decrypted. Page with `next_cursor`."""
    scope = studio_scope(principal, studio_id)
    email_hash = None if email is None else ctx.cipher.lookup_hash(normalise_email(email))
    # the Query pattern already refused any cursor this API did not hand out
    docs = await ctx.storage.run(leads.page, scope, limit, cursor, email_hash, campaign=campaign)
    items = [LeadOut(**leads.reveal(ctx.cipher, doc)) for doc in docs]
    next_cursor = None
    if len(docs) == limit:
        next_cursor = leads.cursor_after(docs[-1])
    return LeadPage(items=items, next_cursor=next_cursor)


async def _lead_for(ctx: Ctx, principal: Principal, lead_id: str) -> dict:
    doc = await ctx.storage.run(leads.get, lead_id, principal.studio_filter)
    if doc is None:
        raise ApiError(404, "no such lead (it may have been erased)")
    return doc


@router.get("/{lead_id}/export", response_model=LeadExport, responses=documented(404))
async def export_lead(lead_id: str, ctx: Ctx, principal: LeadReader) -> LeadExport:
    """Everything stored about one person (GDPR art. 15/20), decrypted."""
    doc = await _lead_for(ctx, principal, lead_id)
    ctx.metrics.erasures.labels(action="export").inc()
    log.info("lead_exported", lead_id=lead_id, by=principal.audit_name)
    return LeadExport(
        lead=LeadOut(**leads.reveal(ctx.cipher, doc)),
        client_ids=await ctx.storage.run(leads.receipts, lead_id),
        consents=[
            ConsentOut(**leads.consent_record(c))
            for c in await ctx.storage.run(leads.consents, lead_id)
        ],
        deliveries=[delivery_out(d) for d in await ctx.storage.run(deliveries.for_lead, lead_id)],
        webhook_deliveries=[
            webhook_delivery_out(d) for d in await ctx.storage.run(webhooks.for_lead, lead_id)
        ],
        exported_at=datetime.now(UTC),
        note="Analytics events hold no personal data and are not linked to a person.",
    )


@router.delete("/{lead_id}", status_code=204, response_class=Response, responses=documented(404))
async def erase_lead(lead_id: str, ctx: Ctx, principal: LeadEraser) -> Response:
    """Erases one person's data (GDPR art. 17). An audit entry without personal data
    records that it happened and who asked."""
    doc = await _lead_for(ctx, principal, lead_id)
    await ctx.storage.run(deliveries.erase_for_lead, lead_id)
    await ctx.storage.run(webhooks.erase_for_lead, lead_id)
    await ctx.storage.run(leads.erase, doc, principal.audit_name)
    ctx.metrics.erasures.labels(action="erase").inc()
    log.info("lead_erased", lead_id=lead_id, by=principal.audit_name)
    return Response(status_code=204)
