"""The public result page a guest's QR code opens: `GET /r/{token}` and its image.

Anyone may call it, so it reveals nothing: a token that is malformed, unknown, or
expired gets the same 404 page (no hint which), and the lookup goes by the token's
SHA-256 through a unique index. A registered token whose image has not arrived yet gets
"your photo is on its way" with a meta refresh (no JavaScript); once the image is there,
the page shows it with a download link. Requests are rate-limited per client address
(an IPv6 /64 counts as one); tokens have at least 128 bits, so guessing is hopeless
anyway. The 404 page also refreshes itself: a QR code shown while its desktop was
offline starts working, without a reload, once the device reconnects."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from cloud_api.api.deps import Ctx, limit_address
from cloud_api.core.ratelimit import RateLimited
from cloud_api.store import shares

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(tags=["result page"])
TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,86}$")
WAITING_REFRESH_S = 4
MISSING_REFRESH_S = 15
NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}
HTML = {"content": {"text/html": {}}}
PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: HTML | {"description": "the photo, or 'on its way'"},
    404: HTML | {"description": "unknown, malformed or expired token (indistinguishable)"},
    429: HTML | {"description": "too many requests from this address"},
}
TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def install(app: FastAPI) -> None:
    app.mount("/share-static", StaticFiles(directory=HERE / "static"), name="share-static")


def _page(request: Request, template: str, status: int, **values: Any) -> HTMLResponse:
    return templates.TemplateResponse(
        request, template, values, status_code=status, headers=NO_STORE
    )


async def _find(request: Request, ctx: Ctx, token: str) -> dict | Response:
    """The live share for `token`, or the response to send instead (404 or 429)."""
    try:
        await ctx.limiter.check(ctx.limiter.share_page, "share", limit_address(request))
    except RateLimited as exc:
        ctx.metrics.rate_limited.labels(scope="share").inc()
        page = _page(request, "busy.html", 429, wait=exc.retry_after)
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    doc = None
    if TOKEN.match(token):
        doc = await ctx.storage.run(shares.find_live, shares.token_hash(token))
    if doc is None:
        return _page(request, "missing.html", 404, refresh=MISSING_REFRESH_S)
    return doc


@router.get("/r/{token}", response_class=HTMLResponse, responses=PAGE_RESPONSES)
async def result_page(token: str, request: Request, ctx: Ctx) -> Response:
    """The guest's result page (mobile first): on its way, or the photo to download."""
    found = await _find(request, ctx, token)
    if isinstance(found, Response):
        return found
    if found.get("image_at") is None:
        return _page(request, "waiting.html", 200, refresh=WAITING_REFRESH_S)
    extension = "jpg" if found["image_subtype"] == "jpeg" else found["image_subtype"]
    return _page(
        request,
        "ready.html",
        200,
        image=f"/r/{token}/image",
        download=f"/r/{token}/image?download=1",
        filename=f"photoflux.{extension}",
        expires_at=found["expires_at"],
    )


@router.get(
    "/r/{token}/image",
    responses={
        200: {"content": {t: {} for t in TYPES.values()}, "description": "the photo"},
        404: PAGE_RESPONSES[404],
        429: PAGE_RESPONSES[429],
    },
)
async def result_image(token: str, request: Request, ctx: Ctx, download: int = 0) -> Response:
    found = await _find(request, ctx, token)
    if isinstance(found, Response):
        return found
    data = None if found.get("image_at") is None else await ctx.storage.run(shares.image_of, found)
    if data is None:
        return _page(request, "missing.html", 404, refresh=MISSING_REFRESH_S)
    subtype = found["image_subtype"]
    extension = "jpg" if subtype == "jpeg" else subtype
    disposition = "attachment" if download else "inline"
    return Response(
        data,
        media_type=TYPES[subtype],
        headers=NO_STORE
        | {"Content-Disposition": f'{disposition}; filename="photoflux.{extension}"'},
    )
