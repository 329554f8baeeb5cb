"""Fixtures for the Python client tests: a customer account on the real API (served on loopback,
talking to the Zoom simulator) and a client holding its key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from obfbroker.client import ObfBrokerClient
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
