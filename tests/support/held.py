"""Requests held at a door until the test opens it: a slow endpoint or a slow Zoom whose
slowness is an event the test controls, not a fixed delay that a busy machine can outrun."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.support.servers import serve_app

HOLD_LIMIT = 60.0  # a test that never opens the door fails here instead of hanging the server
# Not passed on either way (httpx sets its own; the body is passed on whole, decoded).
_HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}


class Door:
    """Requests wait at it (``await door.through()``) until ``open()``; ``arrived`` is set as
    soon as the first one is waiting, ``arrivals`` counts them."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.arrivals = 0
        self._opened = threading.Event()
        self._lock = threading.Lock()

    async def through(self) -> None:
        with self._lock:
            self.arrivals += 1
        self.arrived.set()
        if not await asyncio.to_thread(self._opened.wait, HOLD_LIMIT):
            raise RuntimeError("the door was never opened")

    def wait_for_arrival(self, what: str, timeout: float = 30.0) -> None:
        assert self.arrived.wait(timeout), f"nothing arrived at the door: {what}"

    def open(self) -> None:
        self._opened.set()


@contextmanager
def held_endpoint(reply: str = "ok") -> Iterator[tuple[str, Door]]:
    """An endpoint (any path, POST) that answers 200 ``reply`` once its door is open; yields
    its base URL and the door (opened on the way out)."""
    door = Door()

    async def answer(request: Request) -> Response:
        await request.body()
        await door.through()
        return PlainTextResponse(reply)

    with serve_app(Starlette(routes=[Route("/{path:path}", answer, methods=["POST"])])) as url:
        try:
            yield url, door
        finally:
            door.open()  # before the server stops, which waits for the requests it holds


@contextmanager
def held_upstream(upstream: str, held_path: str) -> Iterator[tuple[str, Door]]:
    """A loopback proxy passing every request on to ``upstream`` (e.g. the simulator), those to
    ``held_path`` only once the door is open; yields its base URL and the door (opened on the
    way out). Point a setting at it (``zoom_oauth_url``) to hold that service's answers."""
    door = Door()

    async def forward(request: Request) -> Response:
        body = await request.body()
        if request.url.path == held_path:
            await door.through()
        url = upstream + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.request(request.method, url, content=body, headers=headers)
        return Response(answer.content, answer.status_code,
                        headers={k: v for k, v in answer.headers.items() if k.lower() not in _HOP_HEADERS})

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    with serve_app(Starlette(routes=[Route("/{path:path}", forward, methods=methods)])) as url:
        try:
            yield url, door
        finally:
            door.open()
