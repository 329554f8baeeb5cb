"""Customers' webhook endpoints as tests stand them up on loopback: ``Receiver`` records every
request it gets (path, headers, body, the status it answered) and answers a script of statuses,
then a default, after an optional delay; ``CountingReceiver`` only counts the POSTs it answers
with its ``status``. The fixtures that serve them are in tests/webhooks/conftest.py and
tests/dashboard/conftest.py."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    """The customer's endpoint: records every request; answers ``script`` in order, then
    ``status``. ``delay`` seconds before answering."""

    url: str = ""
    status: int = 200
    script: list[int] = field(default_factory=list)
    delay: float = 0.0
    reply: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        with self.lock:
            status = self.script.pop(0) if self.script else self.status
            self.received.append(Received(request.url.path, dict(request.headers), body, status))
        if self.delay:
            await asyncio.sleep(self.delay)
        return Response(self.reply, status_code=status, headers=self.headers, media_type="text/plain")

    def ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.received]


@dataclass
class CountingReceiver:
    """Answers every POST with ``status``; counts what it got."""

    url: str = ""
    status: int = 200
    received: int = 0
