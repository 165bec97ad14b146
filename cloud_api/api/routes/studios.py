"""Studios, their admins and their devices (desktop installs with revocable tokens)."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import structlog
from fastapi import APIRouter, Response

from cloud_api.api import credentials
from cloud_api.api.deps import Ctx, CurrentPrincipal, DeviceManager, StudioManager
from cloud_api.api.guarded_route import GuardedRoute
from cloud_api.api.principal import Principal
from cloud_api.api.schemas import (
    DeviceIn,
    DeviceIssued,
    DeviceOut,
    StudioAdminIn,
    StudioIn,
    StudioOut,
    UserOut,
)
from cloud_api.core import passwords
from cloud_api.core.errors import ERROR_RESPONSES, ApiError, documented
from cloud_api.store import accounts, devices

router = APIRouter(
    prefix="/api/studios",
    tags=["studios"],
    route_class=GuardedRoute,
    responses=ERROR_RESPONSES | documented(404),
)
log = structlog.get_logger("cloud_api.studios")


def studio_out(doc: dict[str, Any]) -> StudioOut:
    return StudioOut(id=doc["_id"], name=doc["name"], created_at=doc["created_at"])


def device_out(doc: dict[str, Any]) -> DeviceOut:
    return DeviceOut(id=doc["_id"], **{k: doc[k] for k in DeviceOut.model_fields if k != "id"})


async def _own_studio(ctx: Ctx, principal: Principal, studio_id: str) -> dict[str, Any]:
    studio = await ctx.storage.run(accounts.get_studio, studio_id)
    # a studio that is not yours looks the same as one that does not exist
    if studio is None or not principal.may_access_studio(studio_id):
        raise ApiError(404, "no such studio")
    return studio


@router.post("", status_code=201, response_model=StudioOut)
async def create_studio(body: StudioIn, ctx: Ctx, principal: StudioManager) -> StudioOut:
    studio = await ctx.storage.run(accounts.create_studio, body.name)
    log.info("studio_created", studio_id=studio["_id"], by=principal.audit_name)
    return studio_out(studio)


@router.get("", response_model=list[StudioOut])
async def list_studios(ctx: Ctx, principal: CurrentPrincipal) -> list[StudioOut]:
    if not principal.may("studio:read"):
        raise ApiError(403, "this token may not do that (needs scope studio:read)")
    if principal.role == accounts.ROLE_ADMIN:
        return [studio_out(s) for s in await ctx.storage.run(accounts.list_studios)]
    studio = await ctx.storage.run(accounts.get_studio, principal.studio_id)
    return [] if studio is None else [studio_out(studio)]


@router.post(
    "/{studio_id}/admins", status_code=201, response_model=UserOut, responses=documented(409)
)
async def create_studio_admin(
    studio_id: str, body: StudioAdminIn, ctx: Ctx, principal: StudioManager
) -> UserOut:
    await _own_studio(ctx, principal, studio_id)
    hashed = await anyio.to_thread.run_sync(passwords.hash_password, body.password)
    try:
        user = await ctx.storage.run(
            accounts.create_user, str(body.email), hashed, accounts.ROLE_STUDIO_ADMIN, studio_id
        )
    except accounts.AlreadyExists as exc:
        raise ApiError(409, "an account with that e-mail address exists") from exc
    log.info("studio_admin_created", studio_id=studio_id, user_id=user["_id"])
    return UserOut(id=user["_id"], email=user["email"], role=user["role"], studio_id=studio_id)


@router.post("/{studio_id}/devices", status_code=201, response_model=DeviceIssued)
async def issue_device(
    studio_id: str, body: DeviceIn, ctx: Ctx, principal: DeviceManager
) -> DeviceIssued:
    """Issues a token for one desktop install. It is shown once; only its hash is kept."""
    await _own_studio(ctx, principal, studio_id)
    token, device = await credentials.issue_device(ctx, studio_id, body.name, principal.audit_name)
    return DeviceIssued(device_token=token, **device_out(device).model_dump())


@router.get("/{studio_id}/devices", response_model=list[DeviceOut])
async def list_devices(studio_id: str, ctx: Ctx, principal: DeviceManager) -> list[DeviceOut]:
    await _own_studio(ctx, principal, studio_id)
    return [device_out(d) for d in await ctx.storage.run(devices.list_devices, studio_id)]


@router.delete("/{studio_id}/devices/{device_id}", status_code=204, response_class=Response)
async def revoke_device(
    studio_id: str, device_id: str, ctx: Ctx, principal: DeviceManager
) -> Response:
    """Revokes a device token at once: its next request is refused. Revoking a device
    that is already revoked answers 204 too (the first revocation time is kept)."""
    await _own_studio(ctx, principal, studio_id)
    if not await credentials.revoke_device(ctx, studio_id, device_id, principal.audit_name):
        raise ApiError(404, "no such device")
    return Response(status_code=204)
