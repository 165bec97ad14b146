"""Dashboard sessions: the access token in an HttpOnly, SameSite=Strict cookie; every
form POST must come from this origin and carry a CSRF token bound to the session."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import Response

from cloud_api.api.context import AppContext
from cloud_api.api.deps import resolve_token
from cloud_api.api.principal import Principal
from cloud_api.core import tokens
from cloud_api.store import refresh_tokens

COOKIE = "pf_admin"


async def current_admin(request: Request, ctx: AppContext) -> Principal | None:
    token = request.cookies.get(COOKIE)
    if not token or token.startswith(tokens.DEVICE_PREFIX):
        return None
    principal = await resolve_token(ctx, token)
    if principal is None or principal.kind != "user":
        return None
    return principal


async def revoke(ctx: AppContext, request: Request) -> None:
    """Revokes the session in the cookie, so a copy of the token is useless too."""
    token = request.cookies.get(COOKIE)
    if not token:
        return
    try:
        claims = tokens.decode_access_token(ctx.settings, token)
    except tokens.TokenInvalid:
        return
    await ctx.storage.run(refresh_tokens.revoke_family, claims.family)


def csrf_token(ctx: AppContext, request: Request) -> str:
    session = request.cookies.get(COOKIE, "")
    key = ctx.settings.secret_key.get_secret_value().encode()
    return hmac.new(key, b"csrf:" + session.encode(), hashlib.sha256).hexdigest()


def csrf_ok(ctx: AppContext, request: Request, submitted: str) -> bool:
    return hmac.compare_digest(csrf_token(ctx, request), submitted)


def same_origin(request: Request) -> bool:
    """Browsers send Origin on form POSTs; a missing one falls back to Referer."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return False
    return urlsplit(source).netloc == request.headers.get("host", "")


def set_session(response: Response, request: Request, token: str, max_age: int) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
        path="/admin",
    )


def clear_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/admin")
