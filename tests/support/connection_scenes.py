"""Connections as their tests arrange and read them: a Zoom user no other test has, the stored
row and events of a connection, its API view, an account with webhooks, and a hosted bot acting
for a connected user."""

from __future__ import annotations

import json
import secrets
from typing import Any

from tests.support.bot_scenes import CREATE, launch_spec, new_meeting
from tests.support.customers import Customer
from tests.support.runtimes import RuntimeSession
from tests.support.stack import Stack

CONNECTIONS = "/api/v1/zoom/oauth/connections"


def unique_user(stack: Stack, name: str = "Erin") -> dict[str, Any]:
    """A Zoom user whose email and display name no other test has."""
    return stack.sim.create_user(f"{name}{secrets.token_hex(4)}")


def connection_row(stack: Stack, account_id: str, zoom_user_id: str) -> Any:
    from sqlalchemy import select

    from obfbroker.connections.models import ZoomConnection

    async def work(runtime):
        async with runtime.sessions() as session:
            return (await session.execute(select(ZoomConnection).where(
                ZoomConnection.account_id == account_id,
                ZoomConnection.zoom_user_id == zoom_user_id))).scalar_one_or_none()

    with RuntimeSession(stack.settings) as runtimes:
        return runtimes.run(work)


def connection_events(stack: Stack, account_id: str) -> list[dict[str, Any]]:
    """The account's stored connection events (the bodies its webhook endpoint gets), oldest first."""
    from sqlalchemy import select

    from obfbroker.outbox.models import WebhookMessage

    async def work(runtime):
        async with runtime.sessions() as session:
            rows = (await session.execute(select(WebhookMessage.payload).where(
                WebhookMessage.account_id == account_id,
                WebhookMessage.event_type.like("zoom_oauth_connection.%"),
            ).order_by(WebhookMessage.created_at))).scalars().all()
            return [json.loads(row) for row in rows]

    with RuntimeSession(stack.settings) as runtimes:
        return runtimes.run(work)


def hosted_bot_spec(customer: Customer, user: dict[str, Any]) -> dict[str, Any]:
    """A bot acting for ``user`` in a meeting they host, as the runner is handed it."""
    meeting = new_meeting(customer.stack, user["id"])
    bot = customer.api.post(CREATE, json={
        "meeting_link": meeting.join_url, "bot_name": "Notes",
        "zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": user["id"]}})
    assert bot.status_code == 201, bot.text
    return launch_spec(customer.stack, bot.json()["bot_id"])


def connection(customer: Customer, zoom_user_id: str) -> dict[str, Any]:
    response = customer.api.get(f"{CONNECTIONS}/{zoom_user_id}")
    assert response.status_code == 200, response.text
    return response.json()


def with_webhooks(customer: Customer) -> Customer:
    """Events are stored only for an account with a webhook endpoint."""
    response = customer.api.put("/api/v1/webhooks", json={"url": "https://customer.example.com/obf"})
    assert response.status_code == 200, response.text
    return customer
