"""Sign-in for people: password login, refresh-token rotation, logout."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Request, Response

from cloud_api.api import credentials
from cloud_api.api.context import AppContext
from cloud_api.api.deps import Ctx, CurrentPrincipal, limit_address, limit_anonymous, too_many
from cloud_api.api.guarded_route import GuardedRoute
from cloud_api.api.schemas import LoginIn, Me, RefreshIn, TokenPair
from cloud_api.core import tokens
from cloud_api.core.errors import ERROR_RESPONSES, ApiError
from cloud_api.core.ratelimit import RateLimited
from cloud_api.store import accounts, refresh_tokens
from cloud_api.store.refresh_tokens import RefreshOutcome

router = APIRouter(
    prefix="/api/auth", tags=["auth"], route_class=GuardedRoute, responses=ERROR_RESPONSES
)
log = structlog.get_logger("cloud_api.auth")
Throttled = Annotated[None, Depends(limit_anonymous)]
BAD_LOGIN = "e-mail or password is wrong"


async def issue_pair(ctx: AppContext, user: dict, family: str | None = None) -> TokenPair:
    family = family or tokens.new_family()
    access, lifetime = tokens.issue_access_token(
        ctx.settings, user["_id"], user["role"], user["studio_id"], family
    )
    refresh = tokens.new_opaque_token(tokens.REFRESH_PREFIX)
    stored = await ctx.storage.run(
        refresh_tokens.store_unless_revoked,
        tokens.digest(refresh),
        user["_id"],
        timedelta(days=ctx.settings.refresh_token_days),
        family,
    )
    if not stored:  # signed out (or replayed) while this refresh was under way
        raise ApiError(401, "refresh token invalid, expired or revoked; sign in again")
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=lifetime)


@router.post("/login", response_model=TokenPair)
async def login(body: LoginIn, request: Request, ctx: Ctx, _: Throttled) -> TokenPair:
    """Failed attempts make the address that sent them wait (doubling per failure after a
    few); a correct password from another address is never held back by them."""
    try:
        user = await credentials.check_password(
            ctx, body.email, body.password, limit_address(request)
        )
    except RateLimited as exc:
        raise too_many(exc) from exc
    if user is None:
        raise ApiError(401, BAD_LOGIN, {"WWW-Authenticate": "Bearer"})
    return await issue_pair(ctx, user)


@router.post("/refresh", response_model=TokenPair)
async def refresh(body: RefreshIn, ctx: Ctx, _: Throttled) -> TokenPair:
    outcome, record = await ctx.storage.run(refresh_tokens.spend, tokens.digest(body.refresh_token))
    ctx.metrics.refreshes.labels(outcome=outcome.value).inc()
    if outcome is RefreshOutcome.REUSED:
        log.warning("refresh_token_reused", user_id=record["user_id"] if record else None)
    if outcome is not RefreshOutcome.OK or record is None:
        raise ApiError(401, "refresh token invalid, expired or revoked; sign in again")
    user = await ctx.storage.run(accounts.get_user, record["user_id"])
    if user is None or user["disabled"]:
        await ctx.storage.run(refresh_tokens.revoke_family, record["family"])
        raise ApiError(401, "refresh token invalid, expired or revoked; sign in again")
    return await issue_pair(ctx, user, record["family"])


@router.post("/logout", status_code=204, response_class=Response)
async def logout(body: RefreshIn, ctx: Ctx, _: Throttled) -> Response:
    """Revokes the refresh token, every token rotated from the same login and the access
    tokens issued with them."""
    family = await ctx.storage.run(refresh_tokens.family_of, tokens.digest(body.refresh_token))
    if family is not None:
        await ctx.storage.run(refresh_tokens.revoke_family, family)
    return Response(status_code=204)


@router.get("/me", response_model=Me)
async def me(principal: CurrentPrincipal) -> Me:
    return Me(
        id=principal.id,
        kind=principal.kind,  # type: ignore[arg-type]
        role=principal.role,
        studio_id=principal.studio_id,
        scopes=sorted(principal.scopes),
    )
