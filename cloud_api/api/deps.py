"""FastAPI dependencies: the app context, the authenticated caller and scope checks."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cloud_api.api.context import AppContext
from cloud_api.api.principal import ROLE_SCOPES, Principal
from cloud_api.core import tokens
from cloud_api.core.errors import ApiError
from cloud_api.core.ratelimit import RateLimited
from cloud_api.store import accounts, devices, refresh_tokens
from cloud_api.store.accounts import ROLE_DEVICE

bearer = HTTPBearer(
    auto_error=False,
    description="An access token from /api/auth/login, or a device token (pfd_…).",
)
UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


def get_context(request: Request) -> AppContext:
    return request.app.state.ctx


Ctx = Annotated[AppContext, Depends(get_context)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


IPV6_SITE_PREFIX = 64  # what one host or subscriber is normally given


def limit_address(request: Request) -> str:
    """The client as rate limits and login backoff count it: an IPv4 address, or the /64
    an IPv6 address lies in. One machine commonly holds a whole /64 and can pick any of
    its 2**64 addresses, so counting single IPv6 addresses gave a guesser a fresh,
    never-failed address for every try."""
    address = client_address(request)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        host_bits = 128 - IPV6_SITE_PREFIX
        return str(ipaddress.IPv6Network((int(ip) >> host_bits << host_bits, IPV6_SITE_PREFIX)))
    return address


async def limit_anonymous(request: Request, ctx: Ctx) -> None:
    """Per-address limit for routes anyone may call (login, refresh)."""
    await _enforce(ctx, ctx.limiter.anonymous, "anon", limit_address(request))


def too_many(exc: RateLimited) -> ApiError:
    return ApiError(
        429,
        f"too many requests; retry in {exc.retry_after} s",
        {"Retry-After": str(exc.retry_after)},
    )


async def _enforce(ctx: AppContext, item: object, scope: str, key: str) -> None:
    try:
        await ctx.limiter.check(item, scope, key)  # type: ignore[arg-type]
    except RateLimited as exc:
        ctx.metrics.rate_limited.labels(scope=scope).inc()
        raise too_many(exc) from exc


async def _resolve_device(ctx: AppContext, token_hash: str) -> Principal | None:
    principal = ctx.devices.get(token_hash)
    if principal is None:
        device = await ctx.storage.run(devices.find_active_by_token_hash, token_hash)
        if device is None:
            return None
        principal = Principal(
            "device",
            device["_id"],
            ROLE_DEVICE,
            device["studio_id"],
            frozenset(device["scopes"]),
            device["name"],
        )
        ctx.devices.put(token_hash, principal)
    if ctx.device_needs_touch(principal.id):
        await ctx.storage.run(devices.touch, principal.id)
    return principal


async def resolve_token(ctx: AppContext, token: str) -> Principal | None:
    if token.startswith(tokens.DEVICE_PREFIX):
        return await _resolve_device(ctx, tokens.digest(token))
    try:
        claims = tokens.decode_access_token(ctx.settings, token)
    except tokens.TokenInvalid:
        return None
    user = await ctx.storage.run(accounts.get_user, claims.subject)
    # the account must still exist, be enabled and hold the role the token claims
    if user is None or user["disabled"] or user["role"] != claims.role:
        return None
    if user["studio_id"] != claims.studio_id or claims.role not in ROLE_SCOPES:
        return None
    # signed out, or its refresh token was replayed: one indexed lookup by id
    if await ctx.storage.run(refresh_tokens.is_revoked, claims.family):
        return None
    return Principal(
        "user",
        user["_id"],
        user["role"],
        user["studio_id"],
        ROLE_SCOPES[user["role"]],
        user["email"],
    )


async def authenticate(
    request: Request,
    ctx: Ctx,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "sign in first: send `Authorization: Bearer <token>`", UNAUTHORIZED)
    principal = await resolve_token(ctx, credentials.credentials)
    if principal is None:
        # guessing tokens costs from the same budget as guessing passwords
        await _enforce(ctx, ctx.limiter.anonymous, "anon", limit_address(request))
        raise ApiError(401, "token invalid, expired or revoked; sign in again", UNAUTHORIZED)
    await _enforce(ctx, ctx.limiter.per_token, "token", f"{principal.kind}:{principal.id}")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


def requires(scope: str) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.may(scope):
            raise ApiError(403, f"this token may not do that (needs scope {scope})")
        return principal

    return check


StudioManager = Annotated[Principal, Depends(requires("studios:manage"))]
DeviceManager = Annotated[Principal, Depends(requires("devices:manage"))]
LeadReader = Annotated[Principal, Depends(requires("leads:read"))]
LeadEraser = Annotated[Principal, Depends(requires("leads:erase"))]
LeadWriter = Annotated[Principal, Depends(requires("leads:write"))]
EventWriter = Annotated[Principal, Depends(requires("events:write"))]
DeliveryWriter = Annotated[Principal, Depends(requires("deliveries:write"))]
OpsReader = Annotated[Principal, Depends(requires("ops:read"))]


def studio_scope(principal: Principal, studio_id: str | None) -> str | None:
    """The studio a query is limited to: a studio admin's own, or the admin's choice."""
    if principal.studio_filter is None:
        return studio_id
    if studio_id is not None and studio_id != principal.studio_filter:
        raise ApiError(403, "that studio is not yours")
    return principal.studio_filter


def own_studio(principal: Principal) -> str:
    """The studio a device writes for; a token without one may not write studio data."""
    if principal.studio_id is None:
        raise ApiError(403, "only a token that belongs to a studio may send this")
    return principal.studio_id
