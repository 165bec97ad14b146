"""Sign-in and device-token actions shared by the JSON API and the dashboard forms."""

from __future__ import annotations

import hashlib
from typing import Any

import anyio.to_thread
import structlog

from cloud_api.api.context import AppContext
from cloud_api.core import passwords, tokens
from cloud_api.core.ratelimit import RateLimited
from cloud_api.store import accounts, devices

log = structlog.get_logger("cloud_api.credentials")


async def check_password(
    ctx: AppContext, email: str, password: str, address: str
) -> dict[str, Any] | None:
    """The enabled account these credentials open, or None. Costs one Argon2 check either
    way (off the event loop), so timing does not tell which addresses have accounts.

    Raises RateLimited while `address` must wait after failing on this account too often
    (core/login_guard.py): failures cost the address that made them, never the owner."""
    account_key = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    try:
        await ctx.login_guard.check(account_key, address)
    except RateLimited:
        ctx.metrics.rate_limited.labels(scope="account").inc()
        raise
    user = await ctx.storage.run(accounts.find_user_by_email, email)
    stored = None if user is None or user["disabled"] else user["password_hash"]
    ok = await anyio.to_thread.run_sync(passwords.verify_password, password, stored)
    if not ok or user is None:
        await ctx.login_guard.failed(account_key, address)
        ctx.metrics.logins.labels(outcome="refused").inc()
        log.info("login_refused")
        return None
    await ctx.login_guard.succeeded(account_key, address)
    ctx.metrics.logins.labels(outcome="ok").inc()
    log.info("login", user_id=user["_id"], role=user["role"])
    return user


async def issue_device(
    ctx: AppContext, studio_id: str, name: str, issued_by: str
) -> tuple[str, dict[str, Any]]:
    """A new device token (returned once) and its record (which keeps only the hash)."""
    token = tokens.new_opaque_token(tokens.DEVICE_PREFIX)
    device = await ctx.storage.run(
        devices.create_device, studio_id, name, tokens.digest(token), issued_by
    )
    ctx.metrics.devices.labels(action="issued").inc()
    log.info("device_issued", studio_id=studio_id, device_id=device["_id"], by=issued_by)
    return token, device


async def revoke_device(ctx: AppContext, studio_id: str, device_id: str, revoked_by: str) -> bool:
    if await ctx.storage.run(devices.revoke, studio_id, device_id) is None:
        return False
    ctx.devices.forget_device(device_id)
    ctx.metrics.devices.labels(action="revoked").inc()
    log.info("device_revoked", studio_id=studio_id, device_id=device_id, by=revoked_by)
    return True
