from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.customers import Customer, make_customer
from tests.support.stack import Stack


@pytest.fixture
def customer(stack: Stack) -> Iterator[Customer]:
    c = make_customer(stack)
    yield c
    c.api.close()
