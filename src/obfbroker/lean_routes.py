"""Token-path routes that read their own request.

FastAPI solves a route's declared parameters on every request (dependencies, then each parameter
through pydantic): measured on the hosted mint, about 7% of its CPU (docs/benchmarks.md). A
``LeanRoute`` keeps the declared parameters, which document the route and still answer every
unusual request, and serves ordinary requests through a lean handler marked on the endpoint with
``@lean(handler)``: the handler reads the query, headers and path itself and returns the answer,
or None to hand the request to FastAPI's own handler (a value it would have to validate). The
middleware, the routing and the error handlers are the same for both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

LeanHandler = Callable[[Request], Awaitable[Response | None]]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
_MARK = "__obfbroker_lean__"


def lean(handler: LeanHandler) -> Callable[[Endpoint], Endpoint]:
    """Serve this endpoint's ordinary requests through ``handler`` (under a ``LeanRoute``)."""
    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _MARK, handler)
        return endpoint
    return mark


class LeanRoute(APIRoute):
    """An APIRoute that tries its endpoint's lean handler first, if it has one."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        full = super().get_route_handler()
        quick: LeanHandler | None = getattr(self.endpoint, _MARK, None)
        if quick is None:
            return full

        async def handler(request: Request) -> Response:
            answer = await quick(request)
            return answer if answer is not None else await full(request)

        return handler
