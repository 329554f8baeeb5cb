"""ObfBrokerClient against the real API and the Zoom simulator: every method, typed results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from obfbroker.client import (
    Bot,
    BotEvent,
    BotStatus,
    Connection,
    ConnectionDeleted,
    NotFoundError,
    ObfBrokerClient,
    Page,
    ZoomApp,
)
from tests.support.bot_scenes import new_meeting
from tests.support.customers import Customer
from tests.support.sim import REDIRECT_URI
from tests.support.stack import Stack

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

GUIDE_FIELDS = {"zoom_user_id", "zoom_account_id", "email", "display_name", "metadata", "state",
                "created_at", "updated_at", "has_refresh_token"}


def is_utc(value: datetime | None) -> bool:
    return value is not None and value.tzinfo is not None and value.utcoffset() == timedelta(0)


def test_zoom_app_credentials_round_trip(stack: Stack):
    _, key = stack.create_account("client-app")
    app = stack.sim.create_app()
    with ObfBrokerClient(stack.url, key) as obf:
        with pytest.raises(NotFoundError) as missing:
            obf.get_zoom_app()
        assert missing.value.code == "zoom_app_not_configured" and missing.value.status == 404

        stored = obf.put_zoom_app(app.client_id, app.client_secret,
                                  webhook_secret_token=app.webhook_secret_token)
        assert isinstance(stored, ZoomApp)
        assert stored.client_id == app.client_id
        assert stored.has_client_secret and stored.has_webhook_secret_token
        assert "/webhooks/zoom/" in stored.webhook_url
        assert is_utc(stored.created_at) and is_utc(stored.updated_at)
        assert app.client_secret not in repr(stored) and app.client_secret not in str(stored.raw)

        kept = obf.put_zoom_app(app.client_id, app.client_secret)  # token omitted: kept
        assert kept.has_webhook_secret_token and kept.created_at == stored.created_at
        removed = obf.put_zoom_app(app.client_id, app.client_secret, webhook_secret_token=None)
        assert not removed.has_webhook_secret_token
        assert obf.get_zoom_app() == removed

        assert obf.delete_zoom_app() is None
        with pytest.raises(NotFoundError):
            obf.get_zoom_app()


def test_several_zoom_apps(stack: Stack):
    _, key = stack.create_account("client-apps")
    first, second, third = stack.sim.create_app(), stack.sim.create_app(), stack.sim.create_app()
    with ObfBrokerClient(stack.url, key) as obf:
        main = obf.create_zoom_app(first.client_id, first.client_secret, name="production")
        assert main.is_default and main.name == "production" and main.kind == "user_managed"
        assert main.scopes == ("user:read:user", "user:read:token") and main.app_id.startswith("app_")
        internal = obf.create_zoom_app(second.client_id, second.client_secret, second.webhook_secret_token,
                                       name="internal")
        assert not internal.is_default and internal.has_webhook_secret_token
        assert [a.app_id for a in obf.list_zoom_apps()] == [main.app_id, internal.app_id]
        assert obf.get_zoom_app() == main and obf.get_zoom_app(internal.app_id) == internal
        url = obf.authorize_url(REDIRECT_URI, app_id=internal.app_id)
        assert parse_qs(urlsplit(url).query)["client_id"] == [second.client_id]

        moved = obf.put_zoom_app(third.client_id, third.client_secret, app_id=internal.app_id, default=True)
        assert moved.is_default and moved.client_id == third.client_id and moved.name == "internal"
        assert obf.get_zoom_app().app_id == internal.app_id
        with pytest.raises(ValueError):
            obf.put_zoom_app(third.client_id, third.client_secret, default=True)  # which app?
        assert obf.delete_zoom_app(main.app_id) is None
        with pytest.raises(NotFoundError) as gone:
            obf.get_zoom_app(main.app_id)
        assert gone.value.code == "zoom_app_not_found"


def test_connect_list_get_and_delete(customer: Customer, obf: ObfBrokerClient):
    sim = customer.stack.sim
    alice, bob = sim.create_user("Alice"), sim.create_user("Bob")

    url = obf.authorize_url(REDIRECT_URI, state="alice-1")
    assert isinstance(url, str) and url.startswith(f"{sim.url}/oauth/authorize?")
    query = parse_qs(urlsplit(url).query)
    assert query["client_id"] == [customer.app.client_id]
    assert query["redirect_uri"] == [REDIRECT_URI] and query["state"] == ["alice-1"]
    assert "state" not in parse_qs(urlsplit(obf.authorize_url(REDIRECT_URI)).query)

    code = sim.authorize(customer.app, alice["id"], state="alice-1")
    conn = obf.create_connection(code, REDIRECT_URI, metadata={"tenant_user_id": "alice-1"})
    assert isinstance(conn, Connection)
    assert conn.zoom_user_id == alice["id"] and conn.email == alice["email"]
    assert conn.display_name == "Alice Example" and conn.zoom_account_id
    assert conn.metadata == {"tenant_user_id": "alice-1"}
    assert conn.state == "connected" and conn.connected and conn.has_refresh_token
    assert is_utc(conn.created_at) and is_utc(conn.updated_at)
    assert set(conn.raw) == GUIDE_FIELDS, "connection-create answers exactly the guide's fields"
    assert conn.last_refreshed_at is None and conn.disconnected_at is None

    # connection-create is safe to retry by design: the same code answers the same connection.
    again = obf.create_connection(code, REDIRECT_URI, metadata={"tenant_user_id": "alice-1"})
    assert again == conn

    assert customer.connect(bob["id"], metadata={"tenant_user_id": "bob-1"}).status_code == 200

    got = obf.get_connection(alice["id"])
    assert got.zoom_user_id == alice["id"] and got.metadata == {"tenant_user_id": "alice-1"}
    assert is_utc(got.last_refreshed_at) and is_utc(got.refresh_token_expires_hint)
    assert got.refresh_token_expires_hint > got.last_refreshed_at
    assert got.disconnected_reason is None and got.disconnected_at is None

    first = obf.list_connections(limit=1)
    assert isinstance(first, Page) and len(first) == 1 and first.has_more
    assert first[0].zoom_user_id == bob["id"], "newest first"
    second = obf.list_connections(limit=1, cursor=first.next_cursor)
    assert [c.zoom_user_id for c in second] == [alice["id"]] and second.next_cursor is None
    assert [c.zoom_user_id for c in obf.iter_connections(page_size=1)] == [bob["id"], alice["id"]]

    assert got.last_error is None and got.reconnect_hint is None

    deleted = obf.delete_connection(bob["id"])
    assert deleted == ConnectionDeleted(zoom_user_id=bob["id"], message=f"Zoom user {bob['id']} disconnected")
    # Deleting erases: the connection is gone, not kept as disconnected.
    with pytest.raises(NotFoundError) as err:
        obf.get_connection(bob["id"])
    assert err.value.detail == f"Zoom user {bob['id']} is not connected for this account"
    assert [c.zoom_user_id for c in obf.iter_connections()] == [alice["id"]]
    assert list(obf.iter_connections(state="disconnected")) == []
    with pytest.raises(NotFoundError) as err:
        obf.delete_connection(bob["id"])
    assert err.value.code == "zoom_user_not_connected"


def test_bots_create_read_list_and_leave(customer: Customer, obf: ObfBrokerClient):
    stack = customer.stack
    alice = stack.sim.create_user("Alice")
    assert customer.connect(alice["id"]).status_code == 200
    meeting = new_meeting(stack, alice["id"])
    join_at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)

    bot = obf.create_bot(
        meeting.join_url, bot_name="Notes", audio_required=True, video_required=False, use_zoom_obf=True,
        zoom_oauth_connection_user_id=alice["id"], callback_url="https://customer.example.com/bot-events",
        custom_attributes={"deal": "D-1"}, join_at=join_at, bot_message="Notes is recording",
        automatic_leave={"waiting_room_timeout": 600})
    assert isinstance(bot, Bot) and bot.bot_id.startswith("bot_")
    assert bot.status == "queued" and bot.reason is None and not bot.finished
    assert bot.meeting_link == meeting.join_url and bot.bot_name == "Notes"
    assert bot.audio_required is True and bot.video_required is False
    assert bot.zoom == {"use_zoom_obf": True, "zoom_oauth_connection_user_id": alice["id"]}
    assert bot.zoom_oauth_connection_user_id == alice["id"]
    assert bot.callback_url == "https://customer.example.com/bot-events"
    assert bot.custom_attributes == {"deal": "D-1"}
    assert bot.join_at == join_at and is_utc(bot.join_at)
    assert is_utc(bot.created_at) and is_utc(bot.updated_at)
    (event,) = bot.status_history
    assert isinstance(event, BotEvent) and (event.status, event.reason) == ("queued", None)
    assert is_utc(event.at) and abs(event.at - bot.created_at) < timedelta(seconds=5)
    assert bot.extras == {"bot_message": "Notes is recording",
                          "automatic_leave": {"waiting_room_timeout": 600}}
    assert bot.raw["bot_message"] == "Notes is recording", "unknown fields are kept in raw"

    assert (bot.join_attempts, bot.tokens_minted, bot.next_attempt_at, bot.acting_for_zoom_user_id) == \
        (0, 0, None, None)

    plain = obf.create_bot(meeting.join_url)  # no token: every default from the server
    assert plain.zoom == {"use_zoom_obf": False} and plain.zoom_oauth_connection_user_id is None
    assert plain.bot_name == "obfbroker bot" and plain.join_at is None and plain.extras == {}

    assert obf.get_bot(bot.bot_id) == bot
    assert obf.get_bot_detail(bot.bot_id) == bot
    assert obf.get_bot_status(bot.bot_id) == BotStatus(bot.bot_id, "queued", None, "Joining")

    page = obf.list_bots(limit=1)
    assert isinstance(page, Page) and [b.bot_id for b in page] == [plain.bot_id] and page.next_cursor
    assert [b.bot_id for b in obf.iter_bots(page_size=1)] == [plain.bot_id, bot.bot_id]
    mine = obf.list_bots(zoom_oauth_connection_user_id=alice["id"])
    assert [b.bot_id for b in mine] == [bot.bot_id] and mine.next_cursor is None

    left = obf.leave_bot(bot.bot_id)
    assert left.status == "ended" and left.reason == "left_by_request" and left.finished
    assert [e.status for e in left.status_history] == ["queued", "ended"]
    assert all(is_utc(e.at) for e in left.status_history)
    status = obf.get_bot_status(bot.bot_id)
    assert status.finished and status.reason == "left_by_request"
    assert [b.bot_id for b in obf.iter_bots(status="ended")] == [bot.bot_id]


def test_a_bot_with_several_authorizing_users(customer: Customer, obf: ObfBrokerClient):
    alice, bob = customer.stack.sim.create_user("Alice"), customer.stack.sim.create_user("Bob")
    for user in (alice, bob):
        assert customer.connect(user["id"]).status_code == 200
    meeting = new_meeting(customer.stack, alice["id"])
    several = obf.create_bot(meeting.join_url, use_zoom_obf=True,
                             zoom_oauth_connection_user_ids=[bob["id"], alice["id"]])
    assert several.zoom == {"use_zoom_obf": True, "zoom_oauth_connection_user_ids": [bob["id"], alice["id"]]}
    assert several.zoom_oauth_connection_user_id == bob["id"], "the first candidate"


def test_create_bot_merges_a_zoom_object_with_the_keywords(customer: Customer, obf: ObfBrokerClient):
    bot = obf.create_bot("https://zoom.us/j/123456789?pwd=abc",
                         zoom={"obf_url": "https://tokens.customer.example.com/obf"})
    assert bot.zoom == {"use_zoom_obf": False, "obf_url": "https://tokens.customer.example.com/obf"}
    bot = obf.create_bot("https://meet.example.com/room", use_zoom_obf=False)
    assert bot.zoom == {"use_zoom_obf": False}
