"""Customer webhooks through the client: the endpoint, its one-time secret, the delivery log and
retries, with real deliveries by the outbox. A database of its own: delivery rounds claim every
due message in the database."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from obfbroker.client import NotFoundError, ObfBrokerClient, Page, WebhookDelivery, WebhookRetry
from obfbroker.webhooks.signing import verify
from tests.support.customers import Customer
from tests.support.http import TLS
from tests.support.servers import serve_app
from tests.support.stack import Stack

pytestmark = pytest.mark.parametrize("fresh_database_url", ["sqlite"], indirect=True)


@pytest.fixture
def database_url(fresh_database_url: str) -> str:
    return fresh_database_url


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []
    lock = threading.Lock()

    async def handle(request: Request) -> Response:
        body = await request.body()
        with lock:
            received.append((dict(request.headers), body))
        return Response("ok")

    with serve_app(Starlette(routes=[Route("/events", handle, methods=["POST"])])) as url:
        yield f"{url}/events", received


def deliver(stack: Stack) -> int:
    from obfbroker.runtime import Runtime
    from obfbroker.webhooks.delivery import deliver_due

    async def go() -> int:
        runtime = await Runtime.start(stack.settings)
        try:
            async with httpx.AsyncClient(verify=TLS) as http:
                return await deliver_due(runtime.deliverer, http)
        finally:
            await runtime.close()

    return asyncio.run(go())


def test_webhook_endpoint_deliveries_and_retry(customer: Customer, obf: ObfBrokerClient, receiver):
    url, received = receiver
    endpoint = obf.put_webhook(url)
    assert endpoint.url == url and endpoint.secret and endpoint.secret.startswith("whsec_")
    assert endpoint.created_at.utcoffset() == timedelta(0)
    assert endpoint.secret not in repr(endpoint)
    shown = obf.get_webhook()
    assert shown.url == url and shown.secret is None and shown.created_at == endpoint.created_at

    alice = customer.stack.sim.create_user("Alice")
    assert customer.connect(alice["id"], metadata={"tenant_user_id": "alice-1"}).status_code == 200
    assert deliver(customer.stack) == 1
    (headers, body), = received
    assert verify(endpoint.secret, headers, body, now=float(headers["webhook-timestamp"]))

    page = obf.list_webhook_deliveries()
    assert isinstance(page, Page) and page.next_cursor is None
    (delivery,) = page
    assert isinstance(delivery, WebhookDelivery)
    assert delivery.message_id == headers["webhook-id"] and delivery.id.startswith("whd_")
    assert delivery.event_type == "zoom_oauth_connection.connected"
    assert delivery.attempt == 1 and delivery.succeeded and delivery.response_status == 200
    assert delivery.error is None and delivery.message_status == "delivered"
    assert delivery.attempted_at.utcoffset() == timedelta(0) and delivery.next_attempt_at is None

    retry = obf.retry_webhook_delivery(delivery.message_id)
    assert retry == WebhookRetry(message_id=delivery.message_id, status="pending")
    assert deliver(customer.stack) == 1
    attempts = list(obf.iter_webhook_deliveries(page_size=1))
    assert [d.attempt for d in attempts] == [2, 1], "newest first, across pages"
    assert {d.message_id for d in attempts} == {delivery.message_id}
    assert len(received) == 2 and received[1][0]["webhook-id"] == delivery.message_id

    assert obf.delete_webhook() is None
    with pytest.raises(NotFoundError) as err:
        obf.get_webhook()
    assert err.value.code == "webhook_not_configured"
