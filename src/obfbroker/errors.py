"""One error hierarchy; one handler turns it into ``{"detail", "code", "message"}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as db_errors
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

log = logging.getLogger(__name__)


class ObfError(Exception):
    """A failure the client is told about. ``detail`` must never contain secrets."""

    status_code = 400
    code = "bad_request"

    def __init__(self, detail: str, *, code: str | None = None, status_code: int | None = None,
                 headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None):
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        self.headers = headers or {}
        self.extra = extra or {}


class BadRequest(ObfError):
    status_code = 400
    code = "bad_request"


class Unauthorized(ObfError):
    status_code = 401
    code = "unauthorized"


class Forbidden(ObfError):
    status_code = 403
    code = "forbidden"


class NotFound(ObfError):
    status_code = 404
    code = "not_found"


class Conflict(ObfError):
    status_code = 409
    code = "conflict"


def error_body(detail: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"detail": detail, "code": code, "message": detail, **extra}


def _describe_validation(exc: RequestValidationError) -> str:
    messages = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ()) if part not in ("body", "query", "path")]
        where = ".".join(loc) or "request"
        messages.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(messages) or "invalid request"


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> str:
    """Every method the resource at this path answers, for a 405's ``Allow`` (Starlette names
    only the first route that matched, but GET, PUT and DELETE /api/v1/webhooks are three
    routes). A path the API document names literally is that resource, even where a template
    matches it too: /api/v1/bots/create_bot is POST, not also GET /api/v1/bots/{bot_id}."""
    literal = request.app.openapi().get("paths", {}).get(request.scope["path"])
    if literal is not None:
        methods = {method.upper() for method in literal}
        return ", ".join(method for method in METHODS if method in methods)
    return ", ".join(method for method in METHODS if any(
        route.matches({**request.scope, "method": method})[0] is Match.FULL
        for route in request.app.router.routes))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ObfError)
    async def _obf_error(_: Request, exc: ObfError) -> JSONResponse:
        return JSONResponse(error_body(exc.detail, exc.code, **exc.extra),
                            status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Input never echoes back: pydantic's "input" field could carry a code or a token.
        return JSONResponse(error_body(_describe_validation(exc), "invalid_request"), status_code=400)

    @app.exception_handler(db_errors.DataError)
    async def _unstorable(_: Request, exc: db_errors.DataError) -> JSONResponse:
        # PostgreSQL refuses some text SQLite takes (a NUL character): the input's fault, and
        # nothing was stored. Logged without the statement or its parameters.
        log.info("request refused by the database", extra={"error": type(exc.orig).__name__})
        return JSONResponse(error_body("The request holds a value that cannot be stored "
                                       "(such as a NUL character)", "invalid_request"), status_code=400)

    @app.exception_handler(db_errors.OperationalError)
    @app.exception_handler(db_errors.TimeoutError)
    async def _database_down(_: Request, exc: Exception) -> JSONResponse:
        # The database is unreachable or every pooled connection is busy: retry shortly.
        cause = getattr(exc, "orig", None) or exc
        log.warning("database unavailable", extra={"error": type(cause).__name__})
        return JSONResponse(error_body("The database is unavailable; retry shortly", "database_unavailable"),
                            status_code=503, headers={"Retry-After": "1"})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # 400: FastAPI's "There was an error parsing the body" (a body that is not UTF-8 JSON).
        codes = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed", 401: "unauthorized",
                 413: "payload_too_large"}
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and detail == "Not Found":
            detail = "No such endpoint"
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request) or headers.get("Allow", "")
        return JSONResponse(error_body(detail, codes.get(exc.status_code, "http_error")),
                            status_code=exc.status_code, headers=headers)
