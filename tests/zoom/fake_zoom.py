"""A scriptable stand-in for zoom.us, served on loopback by the tests."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Reply:
    """What the fake answers on one path: JSON (``json``) or raw ``body``."""

    status: int = 200
    json: Any = None
    body: bytes | str | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    """One request as the fake received it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    @property
    def query_params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))


class FakeZoom:
    def __init__(self) -> None:
        self.url = ""
        self.replies: dict[tuple[str, str], Reply] = {}
        self.requests: list[Seen] = []
        self.app = Starlette(routes=[Route("/{path:path}", self._handle,
                                           methods=["GET", "POST"])])

    def reset(self) -> None:
        self.replies.clear()
        self.requests.clear()

    def seen(self, path: str | None = None) -> list[Seen]:
        """The requests to ``path`` (default: to any scripted route): what a test counts, stray
        loopback traffic aside (e.g. a readiness poll from another test run that once had this
        port)."""
        if path is not None:
            return [r for r in self.requests if r.path == path]
        return [r for r in self.requests if (r.method, r.path) in self.replies]

    def on(self, method: str, path: str, reply: Reply) -> None:
        self.replies[(method, path)] = reply

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        self.requests.append(Seen(request.method, request.url.path, request.url.query,
                                  {k.lower(): v for k, v in request.headers.items()}, body))
        reply = self.replies.get((request.method, request.url.path))
        if reply is None:
            return Response(b'{"code":404,"message":"not scripted"}', status_code=404,
                            media_type="application/json")
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.json is not None:
            content: bytes | str = json.dumps(reply.json)
            media_type = reply.content_type or "application/json;charset=UTF-8"
        else:
            content = reply.body or b""
            media_type = reply.content_type
        return Response(content, status_code=reply.status, headers=reply.headers,
                        media_type=media_type)
