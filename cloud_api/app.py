"""The FastAPI application: middleware, routers, start-up checks and bootstrap."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from prometheus_fastapi_instrumentator import Instrumentator

from cloud_api.admin import routes as admin_routes
from cloud_api.api.context import AppContext, build_context
from cloud_api.api.delivery_sender import DeliverySender
from cloud_api.api.routes import (
    auth,
    deliveries,
    events,
    leads,
    ops,
    render_worker,
    renders,
    shares,
    studio_settings,
    studios,
)
from cloud_api.api.webhook_sender import WebhookSender
from cloud_api.core import passwords
from cloud_api.core.config import Settings
from cloud_api.core.errors import install_error_handlers
from cloud_api.core.middleware import (
    BodyLimit,
    BodyTimeout,
    CatchAll,
    HeadLimit,
    RequestContext,
    SecurityHeaders,
)
from cloud_api.core.observability import configure_logging, init_sentry
from cloud_api.core.server import GuardedH11Protocol
from cloud_api.share_page import routes as share_page
from cloud_api.store import accounts, snapshot
from cloud_api.store.indexes import ensure_indexes

log = structlog.get_logger("cloud_api.app")
VERSION = "0.1.0"
EVENT_ENVELOPE_BYTES = 512


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level)
    if settings.sentry_dsn is not None:
        init_sentry(settings.sentry_dsn.get_secret_value(), settings.env)
    ctx = build_context(settings)
    GuardedH11Protocol.head_timeout = settings.header_timeout_seconds

    app = FastAPI(
        title="PhotoFlux Cloud",
        version=VERSION,
        description="Leads, analytics and device management for PhotoFlux studios.",
        lifespan=_lifespan,
        docs_url=None,  # Swagger UI loads from a CDN; /openapi.json is the contract
        redoc_url=None,
    )
    app.state.ctx = ctx
    install_error_handlers(app)
    routers = [
        m.router
        for m in (
            auth,
            studios,
            studio_settings,
            leads,
            events,
            deliveries,
            shares,
            renders,
            render_worker,
            ops,
            admin_routes,
            share_page,
        )
    ]
    for router in routers:
        app.include_router(router)
    # which methods each path serves, for the Allow header of a 405 (errors.py)
    app.state.route_methods = [
        (route.path_regex, set(route.methods))
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
    ]
    admin_routes.install(app)
    share_page.install(app)

    Instrumentator(
        registry=ctx.registry,
        excluded_handlers=["/metrics"],
        should_group_untemplated=True,
    ).instrument(app, metric_namespace="photoflux")
    app.add_middleware(CatchAll)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID", "Idempotency-Key"],
        expose_headers=["X-Request-ID", "Retry-After"],
        max_age=600,
    )
    # a delivery carries a base64 image (4/3 of its size) plus a little JSON
    delivery_body = settings.delivery_max_bytes * 4 // 3 + 64 * 1024
    share_body = settings.share_max_bytes * 4 // 3 + 64 * 1024
    # an event batch: its property text plus at most 500 small envelopes (id, name, time);
    # refusing more while it streams in costs no parsing at all
    events_body = settings.event_property_bytes + 500 * EVENT_ENVELOPE_BYTES
    app.add_middleware(
        BodyLimit,
        limit=settings.max_body_bytes,
        overrides={
            "/api/deliveries": max(delivery_body, settings.max_body_bytes),
            "/api/shares": max(share_body, settings.max_body_bytes),
            "/api/events": min(events_body, settings.max_body_bytes),
            # a photo plus its multipart envelope; a rendered image (PNG) from a worker
            "/api/upload": max(settings.upload_max_bytes + 64 * 1024, settings.max_body_bytes),
            "/api/worker/result": max(64 * 1024 * 1024, settings.max_body_bytes),
        },
    )
    app.add_middleware(
        BodyTimeout,
        seconds=settings.body_timeout_seconds,
        deadline=settings.body_deadline_seconds,
    )
    app.add_middleware(SecurityHeaders, hsts_always=settings.hsts)
    app.add_middleware(HeadLimit, limit=settings.max_header_bytes)
    app.add_middleware(RequestContext)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    ctx: AppContext = app.state.ctx
    await ctx.storage.run(snapshot.load_at_start, ctx.settings, ctx.cipher)
    await ctx.storage.run(ensure_indexes)
    _announce(ctx)
    await _bootstrap_admin(ctx)
    await anyio.to_thread.run_sync(passwords.warm_up)
    sender = DeliverySender(ctx)
    sender.start()
    ctx.sender = sender
    hooks = WebhookSender(ctx)
    hooks.start()
    ctx.webhooks = hooks
    if not ctx.settings.smtp_host:
        log.warning(
            "deliveries_waiting",
            message="PHOTOFLUX_SMTP_HOST is not set: deliveries "
            "are accepted and wait in the queue until it is",
        )
    yield
    await hooks.stop()
    await sender.stop()
    ctx.queue.close()
    await ctx.storage.run(snapshot.save_at_stop, ctx.settings)
    ctx.storage.close()


def _announce(ctx: AppContext) -> None:
    if ctx.storage.embedded:
        log.warning(
            "storage_not_durable",
            message="PHOTOFLUX_MONGODB_URI is not set: using the embedded in-memory store. "
            "Everything is lost when the process stops. Set PHOTOFLUX_MONGODB_URI for real use.",
        )
    if ctx.queue.embedded:
        log.warning(
            "render_queue_embedded",
            message="PHOTOFLUX_REDIS_URL is not set: cloud renders use an in-process queue "
            "(`photoflux-cloud serve` runs one render worker thread); queued jobs are lost "
            "when the process stops",
        )
    elif not ctx.worker_token:
        log.warning(
            "no_worker_token",
            message="PHOTOFLUX_WORKER_TOKEN is not set: render workers cannot take jobs",
        )
    if ctx.settings.generated_secrets:
        log.warning(
            "development_secrets",
            message="generated throw-away secrets; tokens and encrypted fields die with "
            "this process",
            generated=ctx.settings.generated_secrets,
        )


async def _bootstrap_admin(ctx: AppContext) -> None:
    email, secret = ctx.settings.first_admin_email, ctx.settings.first_admin_password
    if not email:
        if not await ctx.storage.run(accounts.any_admin):
            log.warning(
                "no_admin",
                message="set PHOTOFLUX_FIRST_ADMIN_EMAIL and "
                "PHOTOFLUX_FIRST_ADMIN_PASSWORD to create the first admin",
            )
        return
    if await ctx.storage.run(accounts.find_user_by_email, email) is not None:
        return  # never overwrite an existing account's password from the environment
    password = "" if secret is None else secret.get_secret_value()  # length checked by Settings
    hashed = await anyio.to_thread.run_sync(passwords.hash_password, password)
    user = await ctx.storage.run(accounts.create_user, email, hashed, accounts.ROLE_ADMIN, None)
    log.info("first_admin_created", user_id=user["_id"])
