"""Fixtures for the Python client tests: a customer account on the real API (served on loopback,
talking to the Zoom simulator), a client holding its key, and a token mint as a bot would ask
for one (to make Zoom failures show on a connection)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from obfbroker.client import ObfBrokerClient
from tests.bots.conftest import run
from tests.conftest import Stack
from tests.connections.conftest import Customer, make_customer


@pytest.fixture
def customer(stack: Stack) -> Iterator[Customer]:
    c = make_customer(stack, name="client-customer")
    yield c
    c.api.close()


@pytest.fixture
def obf(customer: Customer) -> Iterator[ObfBrokerClient]:
    with ObfBrokerClient(customer.stack.url, customer.api_key) as client:
        yield client


def mint_zak(customer: Customer, zoom_user_id: str) -> Exception | None:
    """Ask for a ZAK as a bot would (refreshing first if needed); the error, if it failed."""
    from sqlalchemy import select

    from obfbroker.connections.models import ZoomConnection

    async def work(runtime) -> Exception | None:
        async with runtime.sessions() as session:
            connection_id = (await session.execute(select(ZoomConnection.id).where(
                ZoomConnection.account_id == customer.account_id,
                ZoomConnection.zoom_user_id == zoom_user_id))).scalar_one()
        try:
            await runtime.tokens.mint(connection_id, token_type="zak", meeting_id=None)
        except Exception as exc:  # the test inspects what it was
            return exc
        return None

    return run(customer.stack, work)
