"""HTTP request metrics as a pure ASGI middleware (no per-request Request objects or tasks, as
``BaseHTTPMiddleware`` makes).

Requests are labelled by the matched route's template, which carries the router's prefix
(``/api/v1/bots/{bot_id}``), never by the raw path, which carries ids; requests no route matched
are ``unmatched``. The metrics are the app's runtime's, looked up per request because the
runtime starts with the app's lifespan, after the middleware is built.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HttpMetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            runtime = getattr(scope["app"].state, "runtime", None)
            if runtime is not None:
                # The router writes the matched route into the scope it was handed (this one).
                route = getattr(scope.get("route"), "path", None)
                runtime.metrics.http_request(scope["method"], route, status,
                                             time.perf_counter() - started)
