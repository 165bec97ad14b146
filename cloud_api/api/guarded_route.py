"""A route class that refuses MongoDB operator injection before any handler runs.

Every JSON body is checked for object keys that start with `$` or contain `.`: such
keys can turn stored data into query operators or dotted paths. The schemas would
refuse most of them anyway; this guard makes it true for every route, including ones
added later with a loosely typed field."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

import anyio.to_thread
from fastapi import Request, Response
from fastapi.routing import APIRoute

from cloud_api.core.errors import ApiError

MAX_DEPTH = 32
# parsing and walking a body this large takes milliseconds: not on the shared event loop
THREAD_ABOVE_BYTES = 64 * 1024


def find_operator_key(value: Any, depth: int = 0) -> str | None:
    if depth > MAX_DEPTH:
        return "(nesting deeper than 32 levels)"
    if isinstance(value, dict):
        for key, item in value.items():
            if key.startswith("$") or "." in key or "\x00" in key:
                return key
            found = find_operator_key(item, depth + 1)
            if found is not None:
                return found
    elif isinstance(value, list):
        for item in value:
            found = find_operator_key(item, depth + 1)
            if found is not None:
                return found
    return None


def _parsed_as_json(request: Request) -> bool:
    # FastAPI reads a body without Content-Type as JSON too, so the guard must as well
    content_type = request.headers.get("content-type", "").lower()  # `application/JSON` too
    return not content_type or "json" in content_type


def _check(body: bytes, request: Request) -> None:
    try:
        data = json.loads(body)
    except RecursionError as exc:
        raise ApiError(400, "JSON nested too deeply; flatten the body") from exc
    except ValueError:
        return  # FastAPI answers malformed JSON with its own 422
    bad = find_operator_key(data)
    if bad is not None:
        raise ApiError(
            400,
            f"field name {bad[:40]!r} is not allowed: names may not start with '$' or contain '.'",
        )
    # hand the parsed body to FastAPI (Starlette caches it here) instead of parsing twice
    request._json = data


class GuardedRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            if request.method in {"POST", "PUT", "PATCH"} and _parsed_as_json(request):
                body = await request.body()
                if len(body) > THREAD_ABOVE_BYTES:
                    limiter = request.app.state.ctx.cpu_work  # see AppContext.cpu_work
                    await anyio.to_thread.run_sync(_check, body, request, limiter=limiter)
                elif body:
                    _check(body, request)
            return await handler(request)

        return guarded
