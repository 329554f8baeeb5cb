"""AsyncObfBrokerClient: the same methods as the sync client, awaited, against the real API."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from obfbroker.client import (
    AsyncObfBrokerClient,
    Bot,
    BotStatus,
    Connection,
    ConnectionDeleted,
    InvalidApiKeyError,
    NotFoundError,
    Page,
    ReconnectUrl,
    TransportError,
    ValidationError,
    WebhookEndpoint,
    ZoomApp,
)
from tests.support.bot_scenes import new_meeting
from tests.support.customers import Customer
from tests.support.servers import free_port
from tests.support.sim import REDIRECT_URI

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_the_async_client_does_the_whole_flow(customer: Customer):
    stack, sim = customer.stack, customer.stack.sim
    alice, bob = sim.create_user("Alice"), sim.create_user("Bob")
    meeting = new_meeting(stack, alice["id"])

    async def flow() -> None:
        async with AsyncObfBrokerClient(stack.url, customer.api_key) as obf:
            assert "api_key='***'" in repr(obf) and customer.api_key not in repr(obf)

            app = await obf.get_zoom_app()
            assert isinstance(app, ZoomApp) and app.client_id == customer.app.client_id
            app = await obf.put_zoom_app(customer.app.client_id, customer.app.client_secret)
            assert app.has_webhook_secret_token, "omitting the token keeps it"

            url = await obf.authorize_url(REDIRECT_URI, state="alice-1")
            assert "state=alice-1" in url
            code = sim.authorize(customer.app, alice["id"], state="alice-1")
            conn = await obf.create_connection(code, REDIRECT_URI, metadata={"tenant_user_id": "alice-1"})
            assert isinstance(conn, Connection) and conn.zoom_user_id == alice["id"]
            code = sim.authorize(customer.app, bob["id"])
            await obf.create_connection(code, REDIRECT_URI, metadata={"tenant_user_id": "bob-1"})

            got = await obf.get_connection(alice["id"])
            assert got.metadata == {"tenant_user_id": "alice-1"} and got.last_refreshed_at is not None
            page = await obf.list_connections(limit=1)
            assert isinstance(page, Page) and page[0].zoom_user_id == bob["id"] and page.next_cursor
            newest_first = [c.zoom_user_id async for c in obf.iter_connections(page_size=1)]
            assert newest_first == [bob["id"], alice["id"]]
            found = [c.zoom_user_id async for c in obf.iter_connections(
                page_size=1, email=alice["email"][:5].upper(), metadata={"tenant_user_id": "alice-1"})]
            assert found == [alice["id"]]
            edited = await obf.update_connection(alice["id"], metadata={"tenant_user_id": "alice-2"})
            assert isinstance(edited, Connection) and edited.metadata == {"tenant_user_id": "alice-2"}
            link = await obf.reconnect_url(alice["id"], redirect_uri=REDIRECT_URI)
            assert isinstance(link, ReconnectUrl) and link.state.startswith("obfrc_")
            code = sim.authorize(customer.app, alice["id"], state=link.state)
            again = await obf.create_connection(code, REDIRECT_URI, state=link.state)
            assert again.zoom_user_id == alice["id"] and again.created_at == conn.created_at

            deleted = await obf.delete_connection(bob["id"])
            assert isinstance(deleted, ConnectionDeleted) and deleted.zoom_user_id == bob["id"]
            assert [c.zoom_user_id async for c in obf.iter_connections()] == [alice["id"]]
            with pytest.raises(NotFoundError):
                await obf.get_connection(bob["id"])

            bot = await obf.create_bot(meeting.join_url, bot_name="Notes", use_zoom_obf=True,
                                       zoom_oauth_connection_user_id=alice["id"], bot_message="hi")
            assert isinstance(bot, Bot) and bot.status == "queued" and bot.extras == {"bot_message": "hi"}
            assert await obf.get_bot(bot.bot_id) == bot
            assert await obf.get_bot_detail(bot.bot_id) == bot
            assert await obf.get_bot_status(bot.bot_id) == BotStatus(bot.bot_id, "queued", None, "Joining")
            assert [b.bot_id for b in await obf.list_bots(zoom_oauth_connection_user_id=alice["id"])] == [
                bot.bot_id]
            assert [b.bot_id async for b in obf.iter_bots(status="queued")] == [bot.bot_id]
            left = await obf.leave_bot(bot.bot_id)
            assert left.status == "ended" and left.finished

            with pytest.raises(ValidationError) as err:
                await obf.create_bot(meeting.join_url, use_zoom_obf=True,
                                     zoom_oauth_connection_user_id=bob["id"])
            assert err.value.code == "zoom_user_not_connected"
            assert err.value.detail == f"Zoom user {bob['id']} is not connected for this account"

            endpoint = await obf.put_webhook("https://customer.example.com/obfbroker/events")
            assert isinstance(endpoint, WebhookEndpoint) and endpoint.secret.startswith("whsec_")
            assert (await obf.get_webhook()).secret is None
            deliveries = await obf.list_webhook_deliveries()
            assert isinstance(deliveries, Page) and deliveries.next_cursor is None
            assert [d async for d in obf.iter_webhook_deliveries()] == list(deliveries)
            assert await obf.delete_webhook() is None
            with pytest.raises(NotFoundError):
                await obf.get_webhook()
            with pytest.raises(NotFoundError):
                await obf.retry_webhook_delivery("msg_nope")

            assert await obf.delete_zoom_app() is None
            with pytest.raises(NotFoundError) as err:
                await obf.get_zoom_app()
            assert err.value.code == "zoom_app_not_configured"

        async with AsyncObfBrokerClient(stack.url, customer.api_key + "x") as wrong:
            with pytest.raises(InvalidApiKeyError) as err:
                await wrong.get_bot(bot.bot_id)
            assert err.value.status == 403 and err.value.code == "invalid_api_key"
            assert customer.api_key not in f"{err.value!s}{err.value!r}"

        async with AsyncObfBrokerClient(f"http://127.0.0.1:{free_port()}", customer.api_key,
                                        timeout=5) as down:
            with pytest.raises(TransportError) as err:
                await down.list_bots()
            assert err.value.status is None and customer.api_key not in str(err.value)

    asyncio.run(flow())


def test_async_client_timestamps_are_aware(customer: Customer):
    async def read() -> ZoomApp:
        async with AsyncObfBrokerClient(customer.stack.url, customer.api_key) as obf:
            return await obf.get_zoom_app()

    app = asyncio.run(read())
    assert app.created_at.utcoffset() == timedelta(0)
