"""Fault injection (latency, 429, 5xx) in front of the Zoom-facing endpoints."""

from __future__ import annotations

import asyncio

from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from obfbroker.zoomsim.state import SimState

RATE_LIMIT_MESSAGE = (
    "You have reached the maximum per-second rate limit for this API. Try again later."
)
# The browser consent page and /_sim/ are deliberately absent: faults hit API clients only.
_FAULTY_EXACT = ("/oauth/token", "/oauth/revoke", "/v2")
_FAULTY_PREFIX = "/v2/"


def is_zoom_facing(path: str) -> bool:
    """Whether fault injection applies to this path."""
    return path in _FAULTY_EXACT or path.startswith(_FAULTY_PREFIX)


def rate_limited_response() -> Response:
    """Zoom's per-second rate limit answer."""
    headers = {"X-RateLimit-Category": "Light", "X-RateLimit-Type": "QPS", "Retry-After": "1"}
    return JSONResponse({"code": 429, "message": RATE_LIMIT_MESSAGE}, 429, headers=headers)


def server_error_response(variant: int, path: str) -> Response:
    """A 5xx; bodies rotate between HTML, JSON and plain text so clients must cope with all."""
    kind = variant % 3
    if kind == 0:
        return HTMLResponse("<html><body><h1>502 Bad Gateway</h1></body></html>", 502)
    if kind == 1:
        if path.startswith("/oauth/"):
            return JSONResponse({"reason": "Internal Error", "error": "server_error"}, 500)
        return JSONResponse({"code": 500, "message": "Internal Error"}, 500)
    return PlainTextResponse("Service Unavailable", 503)


class FaultInjectionMiddleware:
    """Delays or fails Zoom-facing requests before they reach (and change) the state."""

    def __init__(self, app: ASGIApp, sim: SimState) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_zoom_facing(scope["path"]):
            await self.app(scope, receive, send)
            return
        latency_ms = self.sim.faults.latency_ms
        if latency_ms > 0:
            await asyncio.sleep(latency_ms / 1000)
        fault, variant = self.sim.draw_fault()
        if fault == "429":
            await rate_limited_response()(scope, receive, send)
        elif fault == "5xx":
            await server_error_response(variant, scope["path"])(scope, receive, send)
        else:
            await self.app(scope, receive, send)
