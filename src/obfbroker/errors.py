"""One error hierarchy; one handler turns it into ``{"detail", "code", "message"}``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ObfError)
    async def _obf_error(_: Request, exc: ObfError) -> JSONResponse:
        return JSONResponse(error_body(exc.detail, exc.code, **exc.extra),
                            status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Input never echoes back: pydantic's "input" field could carry a code or a token.
        return JSONResponse(error_body(_describe_validation(exc), "invalid_request"), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and detail == "Not Found":
            detail = "No such endpoint"
        return JSONResponse(error_body(detail, codes.get(exc.status_code, "http_error")),
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))
