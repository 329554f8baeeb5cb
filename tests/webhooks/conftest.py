"""Customer-webhook fixtures: a capturing customer endpoint on loopback, an outbox driver that
emits events and runs delivery rounds with a movable clock, and a customer with an endpoint
(what they are is in tests/support/webhook_receivers.py and tests/support/customer_webhooks.py).

Every test here gets a database of its own: delivery rounds claim every due message in the
database, so messages left by other tests would change the counts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from tests.support.customer_webhooks import Customer, Outbox, new_customer
from tests.support.servers import serve_app
from tests.support.stack import Stack
from tests.support.webhook_receivers import Receiver


@pytest.fixture
def database_url(fresh_database_url: str) -> str:
    return fresh_database_url


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    recv = Receiver()
    app = Starlette(routes=[Route("/{path:path}", recv.handle, methods=["POST", "GET"])])
    with serve_app(app) as url:
        recv.url = f"{url}/hooks/obf"
        yield recv


@pytest.fixture
def outbox(stack: Stack) -> Iterator[Outbox]:
    driver = Outbox(stack)
    yield driver
    driver.close()


@pytest.fixture
def customer(stack: Stack, receiver: Receiver) -> Iterator[Customer]:
    """An account whose webhook endpoint is the receiver."""
    c = new_customer(stack)
    c.configure(receiver.url)
    yield c
    c.api.close()
