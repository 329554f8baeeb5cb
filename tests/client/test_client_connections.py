"""The client's connection calls for running a business on them: list filters, metadata edits,
reconnect links and the health fields (last_error, reconnect_hint), against the real API and the
Zoom simulator; and the exact requests both clients send for them."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from obfbroker.client import (
    ConflictError,
    Connection,
    LastError,
    NotFoundError,
    ObfBrokerClient,
    ReconnectUrl,
    ValidationError,
)
from tests.support.bot_scenes import expire_stored_access_token, mint_zak
from tests.support.customers import Customer
from tests.support.recorded_transport import Recorder
from tests.support.sim import REDIRECT_URI
from tests.support.waiting import clock_past

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def ids(connections) -> list[str]:
    return [c.zoom_user_id for c in connections]


def connect(customer: Customer, obf: ObfBrokerClient, user: dict, metadata: dict) -> Connection:
    code = customer.stack.sim.authorize(customer.app, user["id"])
    return obf.create_connection(code, REDIRECT_URI, metadata=metadata)


@sqlite_only
def test_list_filters_by_email_zoom_account_metadata_and_creation_time(customer: Customer,
                                                                        obf: ObfBrokerClient):
    sim = customer.stack.sim
    elsewhere = f"zacct_{secrets.token_hex(4)}"
    alice, bob, carol = sim.create_user("Alice"), sim.create_user("Bob", account_id=elsewhere), \
        sim.create_user("Carol")
    # Each connection is made once the clock has passed the millisecond the one before was
    # created in (created_at as the API shows it), so their created_at differ.
    first = connect(customer, obf, alice, {"tenant": "t1", "seats": 5, "trial": True})
    clock_past(first.created_at)
    second = connect(customer, obf, bob, {"tenant": "t1", "seats": 7, "trial": False})
    clock_past(second.created_at)
    third = connect(customer, obf, carol, {"tenant": "t2"})
    assert first.created_at < second.created_at < third.created_at

    assert ids(obf.list_connections(email=alice["email"][:7].upper())) == [alice["id"]], "any case"
    assert ids(obf.list_connections(zoom_account_id=elsewhere)) == [bob["id"]]
    assert ids(obf.list_connections(metadata={"tenant": "t1"})) == [bob["id"], alice["id"]]
    assert ids(obf.list_connections(metadata={"tenant": "t1", "trial": False})) == [bob["id"]]
    assert ids(obf.list_connections(metadata={"seats": 5})) == [alice["id"]]
    # A connection's own created_at, passed back, leaves it out at either end.
    assert ids(obf.list_connections(created_after=first.created_at)) == [carol["id"], bob["id"]]
    assert ids(obf.list_connections(created_before=second.created_at)) == [alice["id"]]
    assert ids(obf.list_connections(created_after=first.created_at,
                                    created_before=third.created_at)) == [bob["id"]]
    assert ids(obf.list_connections(created_after=second.created_at.isoformat(),
                                    state="connected")) == [carol["id"]]
    # The filters go with every page's request.
    assert ids(obf.iter_connections(page_size=1, metadata={"tenant": "t1"})) == [bob["id"], alice["id"]]
    assert ids(obf.list_connections(metadata={"tenant": "t3"})) == []

    with pytest.raises(ValidationError) as err:
        obf.list_connections(created_after="yesterday")
    assert err.value.code == "invalid_timestamp"
    with pytest.raises(ValidationError):
        obf.list_connections(metadata={f"k{i}": "v" for i in range(6)})
    with pytest.raises(ValueError, match="timezone-aware"):
        obf.list_connections(created_after=datetime.now())
    with pytest.raises(ValueError, match="string, number, boolean or None"):
        obf.list_connections(metadata={"tenant": ["t1"]})


@sqlite_only
def test_update_connection_replaces_the_metadata_only(customer: Customer, obf: ObfBrokerClient):
    alice = customer.stack.sim.create_user("Alice")
    before = connect(customer, obf, alice, {"tenant": "t1"})

    edited = obf.update_connection(alice["id"], metadata={"tenant": "t9", "plan": "team"})
    assert isinstance(edited, Connection) and edited.metadata == {"tenant": "t9", "plan": "team"}
    assert edited.email == alice["email"] and edited.created_at == before.created_at
    assert edited.last_refreshed_at is not None, "PATCH answers the whole connection"
    assert obf.get_connection(alice["id"]) == edited
    assert ids(obf.list_connections(metadata={"tenant": "t9"})) == [alice["id"]]
    assert ids(obf.list_connections(metadata={"tenant": "t1"})) == []

    with pytest.raises(ValidationError) as err:
        obf.update_connection(alice["id"], metadata=["not", "an", "object"])  # type: ignore[arg-type]
    assert err.value.code == "invalid_metadata"
    with pytest.raises(NotFoundError) as err:
        obf.update_connection("nobody123", metadata={})
    assert err.value.code == "zoom_user_not_connected"


@sqlite_only
def test_reconnect_links_keep_the_connection_and_refuse_another_user(customer: Customer,
                                                                      obf: ObfBrokerClient):
    sim = customer.stack.sim
    alice, bob = sim.create_user("Alice"), sim.create_user("Bob")
    first = connect(customer, obf, alice, {"tenant": "t1"})

    link = obf.reconnect_url(alice["id"], redirect_uri=REDIRECT_URI)
    assert isinstance(link, ReconnectUrl) and link.state.startswith("obfrc_")
    query = parse_qs(urlsplit(link.authorize_url).query)
    assert query["state"] == [link.state] and query["redirect_uri"] == [REDIRECT_URI]
    assert query["client_id"] == [customer.app.client_id]
    assert timedelta(minutes=55) < link.expires_at - datetime.now(UTC) <= timedelta(hours=1)
    mine = obf.reconnect_url(alice["id"], redirect_uri=REDIRECT_URI, state="alice-again")
    assert mine.state == "alice-again"

    # Bob comes back through Alice's link: refused, and nothing stored for him.
    code = sim.authorize(customer.app, bob["id"], state=link.state)
    with pytest.raises(ConflictError) as err:
        obf.create_connection(code, REDIRECT_URI, state=link.state)
    assert err.value.status == 409 and err.value.code == "reconnected_other_user"
    assert alice["id"] in err.value.detail and bob["id"] in err.value.detail
    with pytest.raises(NotFoundError):
        obf.get_connection(bob["id"])

    # Alice herself: the same connection, authorized again.
    link = obf.reconnect_url(alice["id"], redirect_uri=REDIRECT_URI)
    code = sim.authorize(customer.app, alice["id"], state=link.state)
    again = obf.create_connection(code, REDIRECT_URI, state=link.state)
    assert again.zoom_user_id == alice["id"] and again.created_at == first.created_at
    assert again.metadata == {"tenant": "t1"}

    # Another user, allowed on purpose.
    link = obf.reconnect_url(alice["id"], redirect_uri=REDIRECT_URI)
    code = sim.authorize(customer.app, bob["id"], state=link.state)
    assert obf.create_connection(code, REDIRECT_URI, state=link.state,
                                 allow_other_user=True).zoom_user_id == bob["id"]

    with pytest.raises(NotFoundError) as err:
        obf.reconnect_url("nobody123", redirect_uri=REDIRECT_URI)
    assert err.value.detail == "Zoom user nobody123 is not connected for this account"
    with pytest.raises(ValidationError) as err:
        obf.reconnect_url(alice["id"], redirect_uri="http://customer.example.com/cb")
    assert err.value.code == "invalid_redirect_uri"


@sqlite_only
def test_last_error_and_reconnect_hint_say_what_happened(customer: Customer, obf: ObfBrokerClient):
    sim = customer.stack.sim
    alice = sim.create_user("Alice")
    connect(customer, obf, alice, {})

    # Zoom down during a refresh: still connected, and the error is on the connection.
    expire_stored_access_token(customer.stack, customer.account_id, alice["id"])
    sim.faults(rate_5xx=1.0)
    try:
        assert mint_zak(customer, alice["id"]) is not None
    finally:
        sim.faults(rate_5xx=0.0)
    flaky = obf.get_connection(alice["id"])
    assert flaky.connected and flaky.reconnect_hint is None
    assert isinstance(flaky.last_error, LastError) and flaky.last_error.code == "zoom_unavailable"
    assert flaky.last_error.message and flaky.last_error.at.utcoffset() == timedelta(0)

    # The user's grant revoked at Zoom: disconnected, with the reason and the next step.
    sim.revoke_user(alice["id"])
    assert mint_zak(customer, alice["id"]) is not None
    dead = obf.get_connection(alice["id"])
    assert not dead.connected and dead.disconnected_reason == "refresh_token_invalid"
    assert dead.last_error is not None and dead.last_error.code == "refresh_token_invalid"
    assert dead.last_error.at >= flaky.last_error.at
    assert dead.reconnect_hint and "/reconnect-url" in dead.reconnect_hint
    (listed,) = obf.list_connections(state="disconnected")
    assert listed == dead


# --- the requests themselves, without a server -------------------------------------------------

PAGE = {"connections": [], "next_cursor": None}
ALICE = {"zoom_user_id": "alice1", "zoom_account_id": "za", "email": "a@example.com", "display_name": "A",
         "metadata": {}, "state": "disconnected", "created_at": "2024-01-01T00:00:00Z",
         "updated_at": "2024-01-02T00:00:00Z", "has_refresh_token": False,
         "disconnected_reason": "app_deauthorized", "disconnected_at": "2024-01-02T00:00:00Z",
         "last_error": {"code": "app_deauthorized", "message": "The user removed the app",
                        "at": "2024-01-02T00:00:00Z"},
         "reconnect_hint": "Send the user a new link: POST .../reconnect-url"}


FILTERS = dict(email="Al", zoom_account_id="za", metadata={"tenant": "t1", "seats": 5, "ratio": 0.5,
                                                          "trial": True, "paid": False, "team": None},
               created_after=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
               created_before="2024-02-01T00:00:00+01:00")
FILTER_PARAMS = {"email": "Al", "zoom_account_id": "za", "metadata.tenant": "t1", "metadata.seats": "5",
                 "metadata.ratio": "0.5", "metadata.trial": "true", "metadata.paid": "false",
                 "metadata.team": "null",
                 "created_after": "2024-01-02T03:04:05Z", "created_before": "2024-02-01T00:00:00+01:00"}


def test_both_clients_send_the_filters_on_every_page():
    first, last = {"connections": [ALICE], "next_cursor": "c1"}, {"connections": [ALICE], "next_cursor": None}
    fake = Recorder(first, last)
    with fake.sync() as obf:
        assert len(list(obf.iter_connections("disconnected", page_size=1, **FILTERS))) == 2
    async_fake = Recorder(first, last)

    async def walk() -> int:
        async with async_fake.asynchronous() as obf:
            return len([c async for c in obf.iter_connections("disconnected", page_size=1, **FILTERS)])

    assert asyncio.run(walk()) == 2
    for requests in (fake.requests, async_fake.requests):
        assert [dict(r.url.params) for r in requests] == [
            {**FILTER_PARAMS, "state": "disconnected", "limit": "1"},
            {**FILTER_PARAMS, "state": "disconnected", "limit": "1", "cursor": "c1"}]
        assert all(r.url.path == "/api/v1/zoom/oauth/connections" for r in requests)


def test_patch_reconnect_url_and_create_connection_requests():
    fake = Recorder(ALICE)
    with fake.sync() as obf:
        edited = obf.update_connection("a/b", metadata={"tenant": "t2"})
        assert fake.requests[-1].method == "PATCH" and fake.body() == {"metadata": {"tenant": "t2"}}
        assert fake.requests[-1].url.raw_path == b"/api/v1/zoom/oauth/connections/a%2Fb"
        assert edited.last_error == LastError("app_deauthorized", "The user removed the app",
                                              datetime(2024, 1, 2, tzinfo=UTC))
        assert edited.reconnect_hint == ALICE["reconnect_hint"]

        obf.create_connection("code1", REDIRECT_URI)
        assert fake.body() == {"code": "code1", "redirect_uri": REDIRECT_URI}
        obf.create_connection("code1", REDIRECT_URI, state="obfrc_x", allow_other_user=True)
        assert fake.body() == {"code": "code1", "redirect_uri": REDIRECT_URI, "state": "obfrc_x",
                               "allow_other_user": True}

    link = {"authorize_url": "https://zoom.us/oauth/authorize?state=s", "state": "s",
            "expires_at": "2024-01-01T01:00:00Z"}
    fake = Recorder(link)
    with fake.sync() as obf:
        answer = obf.reconnect_url("alice1", redirect_uri=REDIRECT_URI)
        assert answer == ReconnectUrl(link["authorize_url"], "s", datetime(2024, 1, 1, 1, tzinfo=UTC))
        assert fake.requests[-1].method == "POST" and fake.body() == {"redirect_uri": REDIRECT_URI}
        assert fake.requests[-1].url.path == "/api/v1/zoom/oauth/connections/alice1/reconnect-url"
        obf.reconnect_url("alice1", redirect_uri=REDIRECT_URI, state="mine")
        assert fake.body() == {"redirect_uri": REDIRECT_URI, "state": "mine"}
        with pytest.raises(ValueError, match="zoom_user_id"):
            obf.reconnect_url("", redirect_uri=REDIRECT_URI)
    assert len(fake.requests) == 2, "refused arguments send nothing"


def test_a_connection_without_the_new_fields_reads_as_none():
    legacy = {k: v for k, v in ALICE.items() if k not in ("last_error", "reconnect_hint")}
    connection = Connection.from_json(legacy)
    assert connection.last_error is None and connection.reconnect_hint is None
    assert Connection.from_json({**legacy, "last_error": None}).last_error is None
