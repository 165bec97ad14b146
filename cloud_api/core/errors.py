"""Errors as values with a kind, rendered in one place as a generic JSON body.

A response never carries a traceback or echoes what the client sent: validation errors
name the field and the rule, not the rejected value (it may be a password)."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

KIND_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation",
    429: "rate_limited",
    431: "too_large",
}


class ErrorBody(BaseModel):
    detail: str | list[dict[str, Any]]
    kind: str
    request_id: str | None = None


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def request_id_in(scope: MutableMapping[str, Any]) -> str | None:
    """The id RequestContext gave this request (middleware.py)."""
    return scope.get("state", {}).get("request_id")


def error_body(status: int, detail: Any, request_id: str | None) -> dict[str, Any]:
    """The one shape of every error answer, from handlers and middleware alike."""
    kind = KIND_BY_STATUS.get(status, "error" if status < 500 else "internal")
    return {"detail": detail, "kind": kind, "request_id": request_id}


def error_response(
    request: Request, status: int, detail: Any, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = error_body(status, detail, request_id_in(request.scope))
    return JSONResponse(body, status_code=status, headers=headers)


def _clean_validation(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(part) for part in err.get("loc", ())],
            "msg": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in errors
    ]


def allowed_methods(request: Request) -> list[str]:
    """Every method any route serves at this path: Starlette's own 405 names only the
    first route that matched, though GET and POST often live in separate routes."""
    methods: set[str] = set()
    for regex, served in getattr(request.app.state, "route_methods", ()):
        if regex.match(request.url.path):
            methods |= served
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(request, exc.status, exc.message, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "request refused"
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return error_response(request, exc.status_code, detail, headers or None)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(request, 422, _clean_validation(list(exc.errors())))

    # anything else is answered by middleware.CatchAll, outside CORS and the headers


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for error statuses a route can answer, all with `ErrorBody`."""
    return {
        status: {"model": ErrorBody, "description": KIND_BY_STATUS[status].replace("_", " ")}
        for status in statuses
    }


# what any /api route may answer before its handler runs: auth, limits, body checks
ERROR_RESPONSES = documented(400, 401, 403, 413, 422, 429)
