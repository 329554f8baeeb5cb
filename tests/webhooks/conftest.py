"""Customer-webhook fixtures: a capturing customer endpoint on loopback, an outbox driver that
emits events and runs delivery rounds with a movable clock, and a customer with an endpoint.

Every test here gets a database of its own: delivery rounds claim every due message in the
database, so messages left by other tests would change the counts."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from obfbroker.clock import OffsetClock
from tests.conftest import Stack
from tests.support.runtimes import RuntimeSession
from tests.support.servers import serve_app

WEBHOOKS = "/api/v1/webhooks"
DELIVERIES = "/api/v1/webhooks/deliveries"


@pytest.fixture
def database_url(fresh_database_url: str) -> str:
    return fresh_database_url


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


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    recv = Receiver()
    app = Starlette(routes=[Route("/{path:path}", recv.handle, methods=["POST", "GET"])])
    with serve_app(app) as url:
        recv.url = f"{url}/hooks/obf"
        yield recv


@dataclass
class Outbox:
    """Drives the outbox as the worker would, with a clock the test moves forward."""

    stack: Stack
    clock: OffsetClock = field(default_factory=OffsetClock)
    runtimes: RuntimeSession | None = None

    def run(self, work) -> Any:
        if self.runtimes is None:
            self.runtimes = RuntimeSession(self.stack.settings, clock=self.clock)
        return self.runtimes.run(work)

    def close(self) -> None:
        if self.runtimes is not None:
            self.runtimes.close()

    def emit(self, account_id: str, event_type: str = "test.event",
             data: dict[str, Any] | None = None) -> str | None:
        from obfbroker.db.session import transaction
        from obfbroker.webhooks.outbox import emit

        async def work(runtime):
            async with transaction(runtime.sessions) as session:
                return await emit(session, account_id=account_id, event_type=event_type,
                                  data=data if data is not None else {"n": 1}, now=runtime.clock.now())

        return self.run(work)

    def deliver(self, *, limit: int = 50, http: Callable[[Any], httpx.AsyncClient] | None = None) -> int:
        """One delivery round, through the worker's outbound client (or ``http(runtime)``)."""
        from obfbroker.outbound import outbound_client
        from obfbroker.webhooks.delivery import deliver_due

        async def work(runtime):
            client = http(runtime) if http else outbound_client(runtime.outbound, timeout=10)
            async with client:
                return await deliver_due(runtime, client, limit=limit)

        return self.run(work)

    def advance(self, **delta: float) -> None:
        self.clock.advance(timedelta(**delta))

    def message(self, message_id: str) -> Any:
        from obfbroker.webhooks.models import WebhookMessage

        async def work(runtime):
            async with runtime.sessions() as session:
                return await session.get(WebhookMessage, message_id)

        return self.run(work)

    def count(self, model: Any) -> int:
        from sqlalchemy import func, select

        async def work(runtime):
            async with runtime.sessions() as session:
                return (await session.execute(select(func.count()).select_from(model))).scalar_one()

        return self.run(work)


@pytest.fixture
def outbox(stack: Stack) -> Iterator[Outbox]:
    driver = Outbox(stack)
    yield driver
    driver.close()


@dataclass
class Customer:
    account_id: str
    api_key: str
    api: httpx.Client
    secret: str | None = None

    def configure(self, url: str) -> dict[str, Any]:
        response = self.api.put(WEBHOOKS, json={"url": url})
        assert response.status_code == 200, response.text
        self.secret = response.json()["secret"]
        return response.json()

    def deliveries(self, **params: Any) -> dict[str, Any]:
        response = self.api.get(DELIVERIES, params=params)
        assert response.status_code == 200, response.text
        return response.json()


def new_customer(stack: Stack, name: str = "customer") -> Customer:
    account_id, key = stack.create_account(name)
    return Customer(account_id, key, stack.client(key))


@pytest.fixture
def customer(stack: Stack, receiver: Receiver) -> Iterator[Customer]:
    """An account whose webhook endpoint is the receiver."""
    c = new_customer(stack)
    c.configure(receiver.url)
    yield c
    c.api.close()
