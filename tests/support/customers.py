"""A customer of obfbroker as its backend sees it: ``Customer`` (an account with its Zoom app
configured on the simulator, its API client, and the consent-then-connection-create step),
``make_customer`` to set one up on a stack, and ``in_database`` to read or arrange rows on the
stack's database directly (what the API cannot, e.g. an expired row)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.sim import REDIRECT_URI, SimApp
from tests.support.stack import Stack

T = TypeVar("T")


@dataclass
class Customer:
    """An obfbroker account with its Zoom app configured, as a customer's backend sees it."""

    account_id: str
    api_key: str
    app: SimApp
    api: httpx.Client
    stack: Stack

    def connect(self, user_id: str, *, metadata: Any = None, redirect_uri: str = REDIRECT_URI,
                scopes: list[str] | None = None, state: str | None = None,
                allow_other_user: bool | None = None) -> httpx.Response:
        """Consent as ``user_id`` at the simulator, then connection-create with the code (and
        the ``state`` the callback received, when given)."""
        code = self.stack.sim.authorize(self.app, user_id, redirect_uri=redirect_uri, scopes=scopes,
                                        state=state)
        body: dict[str, Any] = {"code": code, "redirect_uri": redirect_uri}
        if metadata is not None:
            body["metadata"] = metadata
        if state is not None:
            body["state"] = state
        if allow_other_user is not None:
            body["allow_other_user"] = allow_other_user
        return self.api.post("/api/v1/zoom/oauth/connections", json=body)


def in_database(stack: Stack, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work(session)`` in one committed transaction on the stack's database (for reading
    or arranging what the API cannot, e.g. an expired row)."""
    from obfbroker.db.session import create_engine, create_session_factory, transaction

    async def go() -> T:
        engine = create_engine(stack.settings)
        try:
            async with transaction(create_session_factory(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def make_customer(stack: Stack, app: SimApp | None = None, name: str = "customer") -> Customer:
    account_id, key = stack.create_account(name)
    app = app or stack.sim.create_app()
    api = stack.client(key)
    response = api.put("/api/v1/zoom/oauth/app", json={
        "client_id": app.client_id, "client_secret": app.client_secret,
        "webhook_secret_token": app.webhook_secret_token})
    assert response.status_code == 200, response.text
    return Customer(account_id, key, app, api, stack)
