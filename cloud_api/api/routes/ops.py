"""Liveness, readiness, Prometheus metrics and the index-usage view."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from cloud_api.api.deps import Ctx, OpsReader, client_address
from cloud_api.api.schemas import Health, IndexUsage, Readiness
from cloud_api.core.errors import ERROR_RESPONSES, ApiError, documented
from cloud_api.store.indexes import index_usage

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is up and answering (no dependencies are checked)."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(ctx: Ctx, response: Response) -> Readiness:
    """Ready to serve: the database answers a ping."""
    reachable = await ctx.storage.run(lambda _db: ctx.storage.ping())
    response.status_code = 200 if reachable else 503
    return Readiness(
        status="ready" if reachable else "unavailable",
        storage="embedded" if ctx.storage.embedded else "mongodb",
        durable=not ctx.storage.embedded,
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}}
    | documented(401, 403),
)
async def metrics(
    request: Request,
    ctx: Ctx,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """HTTP metrics and business counters. With `PHOTOFLUX_METRICS_TOKEN` set, scrapers
    send it as a bearer token; without it only loopback and private-network addresses
    (a Prometheus beside the service) may read them."""
    expected = ctx.settings.metrics_token
    if expected is not None:
        given = (authorization or "").removeprefix("Bearer ").encode()
        if not hmac.compare_digest(given, expected.get_secret_value().encode()):
            raise ApiError(401, "metrics need the scrape token", {"WWW-Authenticate": "Bearer"})
    elif not _internal(client_address(request)):
        raise ApiError(403, "metrics are served to internal addresses or with a scrape token")
    return Response(generate_latest(ctx.registry), media_type=CONTENT_TYPE_LATEST)


def _internal(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private


@router.get("/api/admin/indexes", response_model=IndexUsage, responses=ERROR_RESPONSES)
async def indexes(ctx: Ctx, _: OpsReader) -> IndexUsage:
    """Every index with its usage count (`$indexStats`); the embedded store keeps none."""
    rows = await ctx.storage.run(index_usage)
    return IndexUsage(indexes=rows, usage_tracked=not ctx.storage.embedded)  # type: ignore[arg-type]
