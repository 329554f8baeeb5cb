from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import Stack
from tests.support.sim import REDIRECT_URI, SimApp


@dataclass
class Customer:
    """An obfbroker account with its Zoom app configured, as a customer's backend sees it."""

    account_id: str
    api_key: str
    app: SimApp
    api: httpx.Client
    stack: Stack

    def connect(self, user_id: str, *, metadata: Any = None, redirect_uri: str = REDIRECT_URI,
                scopes: list[str] | None = None) -> httpx.Response:
        code = self.stack.sim.authorize(self.app, user_id, redirect_uri=redirect_uri, scopes=scopes)
        body: dict[str, Any] = {"code": code, "redirect_uri": redirect_uri}
        if metadata is not None:
            body["metadata"] = metadata
        return self.api.post("/api/v1/zoom/oauth/connections", json=body)


def make_customer(stack: Stack, app: SimApp | None = None, name: str = "customer") -> Customer:
    account_id, key = stack.create_account(name)
    app = app or stack.sim.create_app()
    api = stack.client(key)
    response = api.put("/api/v1/zoom/oauth/app", json={
        "client_id": app.client_id, "client_secret": app.client_secret,
        "webhook_secret_token": app.webhook_secret_token})
    assert response.status_code == 200, response.text
    return Customer(account_id, key, app, api, stack)


@pytest.fixture
def customer(stack: Stack) -> Iterator[Customer]:
    c = make_customer(stack)
    yield c
    c.api.close()
