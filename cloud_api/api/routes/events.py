"""Analytics events from desktop installs, in batches, idempotent by event id."""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter

from cloud_api.api.deps import Ctx, EventWriter, own_studio
from cloud_api.api.guarded_route import GuardedRoute
from cloud_api.api.schemas import (
    EventBatch,
    EventBatchResult,
    personal_data_problem,
    property_bytes,
)
from cloud_api.core.errors import ERROR_RESPONSES, ApiError
from cloud_api.store import events
from cloud_api.store.clock import utcnow

router = APIRouter(
    prefix="/api/events", tags=["events"], route_class=GuardedRoute, responses=ERROR_RESPONSES
)


@router.post("", response_model=EventBatchResult)
async def post_events(body: EventBatch, ctx: Ctx, device: EventWriter) -> EventBatchResult:
    """Stores up to 500 events. Events already stored (same id) are counted as
    duplicates, not errors, so an outbox can resend a batch after a lost response."""
    studio_id = own_studio(device)
    limit = ctx.settings.event_property_bytes
    if property_bytes(body.events) > limit:
        raise ApiError(413, f"event properties over {limit} bytes in one batch; send fewer")
    # reading every value of 500 events is CPU work: not on the loop every request shares
    problem = await anyio.to_thread.run_sync(
        personal_data_problem, body.events, limiter=ctx.cpu_work
    )
    if problem is not None:
        raise ApiError(422, problem)
    unique = {str(e.id): e for e in body.events}  # a batch may repeat an id itself
    rows = [
        {
            "id": event_id,
            "name": e.name,
            "ts": e.ts,
            "session": e.session,
            "campaign": e.campaign,
            "properties": e.properties,
        }
        for event_id, e in unique.items()
    ]
    accepted, duplicates = await ctx.storage.run(events.insert_batch, studio_id, device.id, rows)
    duplicates += len(body.events) - len(unique)
    now = utcnow()
    adjusted = sum(events.plausible_time(e.ts, now) is None for e in unique.values())
    ctx.metrics.events.labels(outcome="accepted").inc(accepted)
    if duplicates:
        ctx.metrics.events.labels(outcome="duplicate").inc(duplicates)
    return EventBatchResult(accepted=accepted, duplicates=duplicates, clock_adjusted=adjusted)
