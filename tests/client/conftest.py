"""Fixtures for the Python client tests: a customer account on the real API (served on loopback,
talking to the Zoom simulator) and a client holding its key. (A token mint as a bot would ask for
one, to make Zoom failures show on a connection, is ``mint_zak`` in tests/support/bot_scenes.py.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from obfbroker.client import ObfBrokerClient
from tests.support.customers import Customer, make_customer
from tests.support.stack import Stack


@pytest.fixture
def customer(stack: Stack) -> Iterator[Customer]:
    c = make_customer(stack, name="client-customer")
    yield c
    c.api.close()


@pytest.fixture
def obf(customer: Customer) -> Iterator[ObfBrokerClient]:
    with ObfBrokerClient(customer.stack.url, customer.api_key) as client:
        yield client
