"""Dashboard pages under /admin. Each page checks the session and the studio it shows."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from cloud_api.admin import charts, session
from cloud_api.api import credentials
from cloud_api.api.context import AppContext
from cloud_api.api.deps import Ctx, limit_address
from cloud_api.api.principal import Principal
from cloud_api.api.routes.studio_settings import set_webhook
from cloud_api.core import tokens
from cloud_api.core.errors import ApiError
from cloud_api.core.ratelimit import RateLimited
from cloud_api.store import accounts, campaigns, deliveries, devices, events, leads, webhooks
from cloud_api.store.clock import utcnow
from cloud_api.store.indexes import index_usage

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")  # autoescape on for .html
router = APIRouter(prefix="/admin", tags=["admin dashboard"])
log = structlog.get_logger("cloud_api.admin")
CHART_DAYS = 30
HTML = {"content": {"text/html": {}}, "description": "an HTML page"}
REDIRECT = {303: {"description": "to the login page or back to the page"}}
Studio = Annotated[str | None, Query(max_length=64)]
Campaign = Annotated[str | None, Query(max_length=80)]


class SignInFirst(Exception):
    """No dashboard session (or not one allowed here): answered by going to the login."""


def install(app: FastAPI) -> None:
    app.mount("/admin/static", StaticFiles(directory=HERE / "static"), name="admin-static")

    @app.exception_handler(SignInFirst)
    async def _sign_in_first(_request: Request, _exc: SignInFirst) -> Response:
        return _to_login()


def _to_login() -> RedirectResponse:
    return RedirectResponse("/admin/login", status_code=303)


# Called inside each handler, not as a dependency: FastAPI solves dependencies before it
# validates parameters, and a malformed query must stay a 422, signed in or not.
async def signed_in(request: Request, ctx: AppContext) -> Principal:
    principal = await session.current_admin(request, ctx)
    if principal is None:
        raise SignInFirst
    return principal


async def form_sender(request: Request, ctx: AppContext, csrf: str) -> Principal:
    """The signed-in admin behind a device form, sent from this site with its CSRF token."""
    principal = await signed_in(request, ctx)
    if not session.same_origin(request) or not session.csrf_ok(ctx, request, csrf):
        raise SignInFirst
    if not principal.may("devices:manage"):
        raise SignInFirst
    return principal


async def _page(
    request: Request, ctx: AppContext, template: str, principal: Principal, **values: Any
) -> HTMLResponse:
    studios = (
        await ctx.storage.run(accounts.list_studios)
        if principal.role == accounts.ROLE_ADMIN
        else []
    )
    return templates.TemplateResponse(
        request,
        template,
        {"me": principal, "studios": studios, "csrf": session.csrf_token(ctx, request), **values},
    )


def _scope(principal: Principal, studio: str | None) -> str | None:
    # a studio admin always sees their own studio, whatever the link says
    return principal.studio_filter or studio or None


@router.get("/login", response_class=HTMLResponse, responses={200: HTML})
async def login_form(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "login.html", {"error": None})


REFUSED = {
    status: HTML | {"description": what}
    for status, what in (
        (401, "wrong e-mail or password"),
        (403, "form sent from another site"),
        (429, "too many attempts"),
    )
}


@router.post("/login", response_class=HTMLResponse, responses={303: REDIRECT[303]} | REFUSED)
async def login(
    request: Request,
    ctx: Ctx,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    def refuse(message: str, status: int) -> HTMLResponse:
        return templates.TemplateResponse(
            request, "login.html", {"error": message}, status_code=status
        )

    if not session.same_origin(request):
        return refuse("This form must be sent from this site.", 403)
    try:
        await ctx.limiter.check(ctx.limiter.anonymous, "anon", limit_address(request))
        user = await credentials.check_password(ctx, email, password, limit_address(request))
    except RateLimited as exc:
        return refuse(f"Too many attempts. Try again in {exc.retry_after} s.", 429)
    if user is None:
        return refuse("E-mail or password is wrong.", 401)
    token, lifetime = tokens.issue_access_token(
        ctx.settings, user["_id"], user["role"], user["studio_id"], tokens.new_family()
    )
    response = RedirectResponse("/admin", status_code=303)
    session.set_session(response, request, token, lifetime)
    log.info("admin_login", user_id=user["_id"])
    return response


@router.post("/logout", responses=REDIRECT)
async def logout(
    request: Request, ctx: Ctx, csrf: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    """Signs out: only from this site with the session's CSRF token (another site must not
    sign an admin out), and the session's token stops working everywhere at once."""
    if not session.same_origin(request) or not session.csrf_ok(ctx, request, csrf):
        return RedirectResponse("/admin", status_code=303)
    await session.revoke(ctx, request)
    response = _to_login()
    session.clear_session(response)
    return response


@router.get("", response_class=HTMLResponse, responses={200: HTML} | REDIRECT)
async def overview(
    request: Request, ctx: Ctx, studio: Studio = None, campaign: Campaign = None
) -> Response:
    principal = await signed_in(request, ctx)
    scope = _scope(principal, studio)
    campaign = campaign or None
    now = utcnow()
    today = now.date()
    since = (now - timedelta(days=CHART_DAYS - 1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    run = ctx.storage.run
    lead_days = await run(leads.count_per_day, scope, since, campaign)
    styles = await run(events.renders_per_style, scope, since, campaign)
    steps = await run(events.funnel, scope, since, campaign)
    active = await run(events.active_devices_per_day, scope, since, campaign)
    per_campaign = await run(campaigns.funnel, scope, since)
    if campaign is not None:
        per_campaign = [row for row in per_campaign if row["campaign"] == campaign]
    mailed = await ctx.storage.run(deliveries.count_by_status, scope, since)
    capped = await ctx.storage.run(deliveries.caps_reached, scope, now - timedelta(days=7))
    labels = {
        "photo_loaded": "Photo loaded",
        "render_finished": "Rendered",
        "result_exported": "Exported",
        "result_emailed": "E-mailed or QR",
    }
    return await _page(
        request,
        ctx,
        "overview.html",
        principal,
        scope=scope,
        campaign=campaign,
        campaigns=await run(campaigns.known, scope, since),
        per_campaign=per_campaign,
        capped=capped,
        totals={
            "leads": sum(lead_days.values()),
            "renders": sum(styles.values()),
            "devices_today": active.get(str(today), 0),
            "mailed": mailed.get("sent", 0),
            "mail_waiting": mailed.get("queued", 0) + mailed.get("sending", 0),
            "mail_failed": mailed.get("failed", 0),
        },
        leads_chart=charts.column_chart(
            charts.day_series(lead_days, CHART_DAYS, today), "Leads per day"
        ),
        styles_chart=charts.bar_list(
            [charts.Bar(k, v) for k, v in styles.items()], "Renders per style"
        ),
        funnel_chart=charts.bar_list(
            [charts.Bar(labels[k], v) for k, v in steps.items()], "Funnel (sessions)"
        ),
        devices_chart=charts.column_chart(
            charts.day_series(active, CHART_DAYS, today), "Active devices per day"
        ),
    )


LEADS_PER_PAGE = 100


@router.get("/leads", response_class=HTMLResponse, responses={200: HTML} | REDIRECT)
async def lead_list(
    request: Request,
    ctx: Ctx,
    studio: Studio = None,
    campaign: Campaign = None,
    before: Annotated[str | None, Query(pattern=leads.CURSOR_PATTERN)] = None,
) -> Response:
    principal = await signed_in(request, ctx)
    scope = _scope(principal, studio)
    campaign = campaign or None
    docs = await ctx.storage.run(leads.page, scope, LEADS_PER_PAGE, before, campaign=campaign)
    rows = [leads.reveal(ctx.cipher, doc) for doc in docs]
    older = None
    if len(docs) == LEADS_PER_PAGE:
        older = leads.cursor_after(docs[-1])
    return await _page(
        request,
        ctx,
        "leads.html",
        principal,
        scope=scope,
        campaign=campaign,
        campaigns=await ctx.storage.run(
            campaigns.known, scope, utcnow() - timedelta(days=CAMPAIGN_DAYS)
        ),
        rows=rows,
        older=older,
        first_page=before is None,
    )


CAMPAIGN_DAYS = 365  # campaigns offered in the lead filter


@router.get("/leads/{lead_id}", response_class=HTMLResponse, responses={200: HTML} | REDIRECT)
async def lead_view(request: Request, ctx: Ctx, lead_id: str) -> Response:
    """One person: their details and every consent given, with text versions and times."""
    principal = await signed_in(request, ctx)
    doc = await ctx.storage.run(leads.get, lead_id[:64], principal.studio_filter)
    if doc is None:
        return RedirectResponse("/admin/leads", status_code=303)
    consents = await ctx.storage.run(leads.consents, doc["_id"])
    return await _page(
        request,
        ctx,
        "lead.html",
        principal,
        scope=principal.studio_filter or doc["studio_id"],
        lead=leads.reveal(ctx.cipher, doc),
        consents=[leads.consent_record(c) for c in consents],
    )


CSV_FIELDS = (
    "id",
    "email",
    "name",
    "source",
    "campaign",
    "consent_text_version",
    "consented_at",
    "marketing",
    "marketing_text_version",
    "marketing_consented_at",
    "created_at",
)


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # a cell starting like a formula would run in a spreadsheet (CSV injection)
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


@router.get("/leads.csv", responses={200: {"content": {"text/csv": {}}}} | REDIRECT)
async def lead_csv(request: Request, ctx: Ctx, studio: Studio = None) -> Response:
    principal = await signed_in(request, ctx)
    scope = _scope(principal, studio)
    docs = await ctx.storage.run(leads.page, scope, 100_000)
    buffer = io.StringIO()
    buffer.write("\ufeff")  # a BOM, so Excel reads accented names as UTF-8
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    for doc in docs:
        lead = leads.reveal(ctx.cipher, doc)
        writer.writerow([_cell(lead[f]) for f in CSV_FIELDS])
    log.info("leads_csv_exported", rows=len(docs), by=principal.audit_name)
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="photoflux-leads.csv"'},
    )


@router.get("/devices", response_class=HTMLResponse, responses={200: HTML} | REDIRECT)
async def device_page(request: Request, ctx: Ctx, studio: Studio = None) -> Response:
    principal = await signed_in(request, ctx)
    return await _device_view(request, ctx, principal, _scope(principal, studio), None)


async def _device_view(
    request: Request, ctx: AppContext, principal: Principal, scope: str | None, issued: str | None
) -> HTMLResponse:
    rows = [] if scope is None else await ctx.storage.run(devices.list_devices, scope)
    return await _page(
        request, ctx, "devices.html", principal, scope=scope, rows=rows, issued=issued
    )


@router.post("/devices", response_class=HTMLResponse, responses={200: HTML} | REDIRECT)
async def issue_device(
    request: Request,
    ctx: Ctx,
    name: Annotated[str, Form(min_length=1, max_length=120)],
    studio: Annotated[str, Form(min_length=1, max_length=64)],
    csrf: Annotated[str, Form(max_length=128)],
) -> Response:
    principal = await form_sender(request, ctx, csrf)
    scope = _scope(principal, studio)
    if scope is None or await ctx.storage.run(accounts.get_studio, scope) is None:
        return _to_login()
    token, _ = await credentials.issue_device(ctx, scope, name, principal.audit_name)
    return await _device_view(request, ctx, principal, scope, token)


@router.post("/devices/{device_id}/revoke", responses=REDIRECT)
async def revoke_device(
    request: Request,
    ctx: Ctx,
    device_id: str,
    studio: Annotated[str, Form(min_length=1, max_length=64)],
    csrf: Annotated[str, Form(max_length=128)],
) -> Response:
    principal = await form_sender(request, ctx, csrf)
    scope = _scope(principal, studio)
    if scope is not None:
        await credentials.revoke_device(ctx, scope, device_id, principal.audit_name)
    return RedirectResponse(f"/admin/devices?studio={scope or ''}", status_code=303)


@router.get("/indexes", response_class=HTMLResponse, responses={200: HTML} | REDIRECT)
async def index_page(request: Request, ctx: Ctx) -> Response:
    principal = await signed_in(request, ctx)
    if not principal.may("ops:read"):
        raise SignInFirst
    rows = await ctx.storage.run(index_usage)
    return await _page(
        request,
        ctx,
        "indexes.html",
        principal,
        rows=rows,
        scope=None,
        tracked=not ctx.storage.embedded,
    )


@router.get("/webhook", response_class=HTMLResponse, responses={200: HTML} | REDIRECT)
async def webhook_page(request: Request, ctx: Ctx, studio: Studio = None) -> Response:
    principal = await signed_in(request, ctx)
    return await _webhook_view(request, ctx, principal, _scope(principal, studio))


async def _webhook_view(
    request: Request,
    ctx: AppContext,
    principal: Principal,
    scope: str | None,
    *,
    secret: str | None = None,
    error: str | None = None,
) -> HTMLResponse:
    endpoint = None if scope is None else await ctx.storage.run(webhooks.endpoint, scope)
    rows = [] if scope is None else await ctx.storage.run(webhooks.recent, scope)
    return await _page(
        request,
        ctx,
        "webhook.html",
        principal,
        scope=scope,
        endpoint=endpoint,
        rows=rows,
        secret=secret,
        error=error,
    )


@router.post("/webhook", response_class=HTMLResponse, responses={200: HTML} | REDIRECT)
async def save_webhook(
    request: Request,
    ctx: Ctx,
    url: Annotated[str, Form(min_length=1, max_length=500)],
    studio: Annotated[str, Form(min_length=1, max_length=64)],
    csrf: Annotated[str, Form(max_length=128)],
    secret: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Sets the studio's webhook; the secret (typed, or made here) is shown once."""
    principal = await form_sender(request, ctx, csrf)
    scope = _scope(principal, studio)
    if scope is None or await ctx.storage.run(accounts.get_studio, scope) is None:
        return _to_login()
    if secret and (len(secret) < 16 or any(c.isspace() for c in secret)):
        return await _webhook_view(
            request, ctx, principal, scope, error="The secret needs 16 or more characters."
        )
    try:
        answer = await set_webhook(ctx, scope, url.strip(), secret or None)
    except ApiError as exc:
        return await _webhook_view(request, ctx, principal, scope, error=exc.message)
    log.info("webhook_set", studio_id=scope, by=principal.audit_name)
    return await _webhook_view(request, ctx, principal, scope, secret=answer.secret)
