"""Pure ASGI middleware (no per-request task hops): request ids with access logs,
security headers, and a request body size limit enforced while the body streams in."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import sentry_sdk
import structlog

from cloud_api.core.errors import error_body, request_id_in
from cloud_api.core.observability import redact_path

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
access_log = structlog.get_logger("cloud_api.access")
error_log = structlog.get_logger("cloud_api.errors")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


class RequestContext:
    """Gives every request an id (the caller's X-Request-ID if well-formed), binds it to
    every log line written while handling it, returns it, and logs one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_log.info(
                "request",
                method=scope["method"],
                path=redact_path(scope["path"]),
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 2),
            )


API_CSP = "default-src 'none'; frame-ancestors 'none'"
# the public result page a QR code opens: its own image and style sheet, nothing else
SHARE_CSP = (
    "default-src 'none'; img-src 'self' data:; style-src 'self'; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
ADMIN_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def _csp(path: str) -> str:
    if path.startswith("/admin"):
        return ADMIN_CSP
    if path.startswith(("/r/", "/share-static/")):
        return SHARE_CSP
    return API_CSP


class SecurityHeaders:
    def __init__(self, app: ASGIApp, hsts_always: bool) -> None:
        self.app = app
        self.hsts_always = hsts_always

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        admin = path.startswith("/admin")
        # same-origin, not no-referrer, on the dashboard: with no-referrer Chromium sends
        # `Origin: null` on form posts, and the CSRF check needs the real origin
        referrer = b"same-origin" if admin else b"no-referrer"
        extra = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", referrer),
            (b"x-frame-options", b"DENY"),
            (b"content-security-policy", _csp(path).encode()),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if path.startswith(("/api", "/admin", "/r/")):  # a result page holds a token
            extra.append((b"cache-control", b"no-store"))
        if self.hsts_always or scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {key.lower() for key, _ in message.get("headers", [])}
                message.setdefault("headers", []).extend(
                    (key, value) for key, value in extra if key not in present
                )
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _StartTracker:
    """Wraps `send` and remembers whether the response has begun (after which a
    middleware can no longer answer with an error of its own)."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        self.started = self.started or message["type"] == "http.response.start"
        await self._send(message)


class BodyTooLarge(Exception):
    """Raised from inside `receive` once a body passes the limit; BodyLimit answers it."""


class CatchAll:
    """Turns an unhandled exception into a generic 500 that still passes through the
    request-id, security-header and CORS middleware outside it, and reports it once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracked = _StartTracker(send)
        try:
            await self.app(scope, receive, tracked)
        except (BodyTooLarge, BodyTooSlow):
            raise
        except Exception as exc:
            error_log.error("unhandled_error", path=scope["path"], exc_info=exc)
            sentry_sdk.capture_exception(exc)
            if tracked.started:
                raise
            detail = "internal error; quote the request id if you report it"
            await _send_error(send, scope, 500, detail)


async def _send_error(
    send: Send, scope: Scope, status: int, detail: str, close: bool = False
) -> None:
    raw = json.dumps(error_body(status, detail, request_id_in(scope))).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw})


class HeadLimit:
    """Refuses a request whose head (request line and headers) is over `limit` bytes with
    431. h11's limit applies only to a head still incomplete after a read, so a head that
    arrives in one read (up to 64 KiB) passed it; this makes the limit what it says."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _head_size(scope) > self.limit:
            detail = f"request head larger than {self.limit} bytes; send fewer or shorter headers"
            await _send_error(send, scope, 431, detail, close=True)
            return
        await self.app(scope, receive, send)


def _head_size(scope: Scope) -> int:
    line = len(scope["method"]) + len(scope.get("raw_path") or b"") + 16  # " HTTP/1.1\r\n" etc.
    line += len(scope.get("query_string") or b"")
    return line + sum(len(name) + len(value) + 4 for name, value in scope["headers"])


class BodyLimit:
    """Refuses bodies over `limit` bytes with 413, whether or not Content-Length is sent,
    without reading more than `limit` bytes of them."""

    def __init__(self, app: ASGIApp, limit: int, overrides: dict[str, int] | None = None) -> None:
        self.app = app
        self.default = limit
        self.overrides = overrides or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.overrides.get(scope["path"].rstrip("/"), self.default)
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, send, limit)
            return
        seen = 0
        tracked = _StartTracker(send)

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, counting_receive, tracked)
        except BodyTooLarge:
            if not tracked.started:
                await self._refuse(scope, send, limit)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        detail = f"request body larger than {limit} bytes; send less per request"
        # the unread rest of the body would otherwise be taken for the next request
        await _send_error(send, scope, 413, detail, close=True)


class BodyTimeout:
    """Answers 408 and closes the connection when a client pauses longer than `seconds`
    while sending a request body, or has not sent all of it within `deadline` seconds: a
    slow sender must not hold a request open for ever, and one that trickles a byte just
    inside every pause (slowloris on the body) would otherwise never be cut off. Only body
    reads are timed; waiting for a disconnect afterwards is not."""

    def __init__(self, app: ASGIApp, seconds: float, deadline: float | None = None) -> None:
        self.app = app
        self.seconds = seconds
        self.deadline = deadline if deadline is not None else seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_done = False
        tracked = _StartTracker(send)
        loop = asyncio.get_running_loop()
        ends = loop.time() + self.deadline

        async def timed_receive() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()
            wait = min(self.seconds, ends - loop.time())
            try:
                if wait <= 0:
                    raise TimeoutError
                message = await asyncio.wait_for(receive(), wait)
            except TimeoutError:
                raise BodyTooSlow from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        try:
            await self.app(scope, timed_receive, tracked)
        except BodyTooSlow:
            if not tracked.started:
                detail = (
                    f"request body not received in time (pauses up to {self.seconds:g} s, "
                    f"all of it within {self.deadline:g} s); send it faster"
                )
                await _send_error(send, scope, 408, detail, close=True)


class BodyTooSlow(Exception):
    """Raised from inside `receive` when a body stalls; BodyTimeout answers it."""
