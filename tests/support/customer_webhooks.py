"""Customer webhooks as tests drive them: the API paths (``WEBHOOKS``, ``DELIVERIES``), an
``Outbox`` that emits events and runs delivery rounds as the worker would, with a clock the test
moves forward, and a ``Customer`` account that configures its endpoint and reads its deliveries
(``new_customer`` makes one)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from obfbroker.clock import OffsetClock
from tests.support.runtimes import RuntimeSession
from tests.support.stack import Stack

WEBHOOKS = "/api/v1/webhooks"
DELIVERIES = "/api/v1/webhooks/deliveries"


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
        from obfbroker.outbox.service import emit

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
                return await deliver_due(runtime.deliverer, client, limit=limit)

        return self.run(work)

    def advance(self, **delta: float) -> None:
        self.clock.advance(timedelta(**delta))

    def message(self, message_id: str) -> Any:
        from obfbroker.outbox.models import WebhookMessage

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
