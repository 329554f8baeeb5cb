"""Reconnect links: POST .../connections/{zoom_user_id}/reconnect-url, and connection-create's
``state`` / ``allow_other_user``: the right user reconnects and keeps the connection's id;
another user is refused (409, nothing stored, the new grant revoked) unless allowed; an
expired or unknown state is an ordinary connection-create."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select, update

from obfbroker.connections.models import ReconnectIntent, ZoomConnection
from tests.support.customers import Customer, in_database, make_customer
from tests.support.errors import assert_error
from tests.support.sim import REDIRECT_URI

CONNECTIONS = "/api/v1/zoom/oauth/connections"


def reconnect_url(customer: Customer, zoom_user_id: str, **body: Any) -> dict[str, Any]:
    response = customer.api.post(f"{CONNECTIONS}/{zoom_user_id}/reconnect-url",
                                 json={"redirect_uri": REDIRECT_URI, **body})
    assert response.status_code == 200, response.text
    return response.json()


def connection_id(customer: Customer, zoom_user_id: str) -> str | None:
    async def read(session):
        return (await session.execute(select(ZoomConnection.id).where(
            ZoomConnection.account_id == customer.account_id,
            ZoomConnection.zoom_user_id == zoom_user_id))).scalar()

    return in_database(customer.stack, read)


def intents(customer: Customer) -> list[ReconnectIntent]:
    async def read(session):
        return list((await session.execute(select(ReconnectIntent).where(
            ReconnectIntent.account_id == customer.account_id))).scalars())

    return in_database(customer.stack, read)


def live_grants(customer: Customer, zoom_user_id: str) -> int:
    """How many grants of the user for the customer's app still work at the simulator."""
    grants = customer.stack.sim.app.state.sim.grants.grants.values()
    return sum(1 for g in grants if g.user_id == zoom_user_id
               and g.client_id == customer.app.client_id and g.alive)


def test_the_link_is_an_authorize_url_for_the_callback_with_a_state(customer: Customer):
    alice = customer.stack.sim.create_user("Alice")
    customer.connect(alice["id"])
    link = reconnect_url(customer, alice["id"])
    assert set(link) == {"authorize_url", "state", "expires_at"}
    assert link["state"].startswith("obfrc_") and len(link["state"]) > 20
    url = urlsplit(link["authorize_url"])
    assert f"{url.scheme}://{url.netloc}" == customer.stack.settings.zoom_oauth_url
    assert url.path == "/oauth/authorize"
    assert parse_qs(url.query) == {"response_type": ["code"], "client_id": [customer.app.client_id],
                                   "redirect_uri": [REDIRECT_URI], "state": [link["state"]]}
    expires = datetime.fromisoformat(link["expires_at"].replace("Z", "+00:00"))
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)
    assert reconnect_url(customer, alice["id"], state="alice-internal-7")["state"] == "alice-internal-7"

    stored = intents(customer)
    assert {i.zoom_user_id for i in stored} == {alice["id"]} and len(stored) == 2
    for intent in stored:
        assert intent.state_hash not in (link["state"], "alice-internal-7"), "only a keyed hash"
        assert len(intent.state_hash) == 64


def test_the_right_user_reconnects_and_keeps_the_connection(customer: Customer):
    sim = customer.stack.sim
    alice = sim.create_user("Alice")
    first = customer.connect(alice["id"], metadata={"tenant": "t-1"}).json()
    kept_id = connection_id(customer, alice["id"])
    sim.revoke_user(alice["id"])
    link = reconnect_url(customer, alice["id"])

    response = customer.connect(alice["id"], state=link["state"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["zoom_user_id"] == alice["id"] and body["state"] == "connected"
    assert body["created_at"] == first["created_at"] and body["metadata"] == {"tenant": "t-1"}
    assert connection_id(customer, alice["id"]) == kept_id
    assert intents(customer) == [], "the link is used up"
    assert live_grants(customer, alice["id"]) == 1


def test_another_user_is_refused_and_nothing_changes(customer: Customer):
    sim = customer.stack.sim
    alice, bob = sim.create_user("Alice"), sim.create_user("Bob")
    customer.connect(alice["id"])
    before = customer.api.get(CONNECTIONS).json()
    link = reconnect_url(customer, alice["id"])

    response = customer.connect(bob["id"], state=link["state"], metadata={"tenant": "bob"})
    body = assert_error(response, 409, "reconnected_other_user", alice["id"], bob["id"])
    assert "allow_other_user" in body["detail"]
    assert customer.api.get(CONNECTIONS).json() == before, "nothing stored or overwritten"
    assert_error(customer.api.get(f"{CONNECTIONS}/{bob['id']}"), 404, "zoom_user_not_connected")
    assert live_grants(customer, bob["id"]) == 0, "the new grant is revoked at Zoom"
    assert sim.stats()["per_user"][bob["id"]]["revokes"] == 1
    assert len(intents(customer)) == 1, "the link still works for Alice"

    assert customer.connect(alice["id"], state=link["state"]).status_code == 200
    assert intents(customer) == []


def test_allow_other_user_connects_whoever_authorized(customer: Customer):
    sim = customer.stack.sim
    alice, bob = sim.create_user("Alice"), sim.create_user("Bob")
    customer.connect(alice["id"])
    link = reconnect_url(customer, alice["id"])
    response = customer.connect(bob["id"], state=link["state"], allow_other_user=True)
    assert response.status_code == 200, response.text
    assert response.json()["zoom_user_id"] == bob["id"]
    listed = {c["zoom_user_id"] for c in customer.api.get(CONNECTIONS).json()["connections"]}
    assert listed == {alice["id"], bob["id"]}
    assert live_grants(customer, bob["id"]) == 1


def test_an_expired_or_unknown_state_is_an_ordinary_connection_create(customer: Customer):
    sim = customer.stack.sim
    alice, bob, carol = sim.create_user("Alice"), sim.create_user("Bob"), sim.create_user("Carol")
    customer.connect(alice["id"])
    link = reconnect_url(customer, alice["id"])

    async def expire(session):
        await session.execute(update(ReconnectIntent)
                              .where(ReconnectIntent.account_id == customer.account_id)
                              .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))

    in_database(customer.stack, expire)
    assert customer.connect(bob["id"], state=link["state"]).status_code == 200
    assert customer.connect(carol["id"], state="obfrc_never-issued").status_code == 200
    assert customer.connect(carol["id"], state="").status_code == 200
    assert live_grants(customer, bob["id"]) == 1


def test_a_state_is_only_recognised_by_the_account_that_made_the_link(customer: Customer):
    sim = customer.stack.sim
    alice, bob = sim.create_user("Alice"), sim.create_user("Bob")
    customer.connect(alice["id"])
    link = reconnect_url(customer, alice["id"], state="shared-state")
    other = make_customer(customer.stack, name="other")
    assert other.connect(bob["id"], state=link["state"]).status_code == 200
    other.api.close()


def test_bad_reconnect_requests(customer: Customer):
    alice = customer.stack.sim.create_user("Alice")
    customer.connect(alice["id"])
    path = f"{CONNECTIONS}/{alice['id']}/reconnect-url"
    assert_error(customer.api.post(f"{CONNECTIONS}/nobody123/reconnect-url",
                                   json={"redirect_uri": REDIRECT_URI}), 404,
                 "zoom_user_not_connected", "Zoom user nobody123 is not connected for this account")
    assert_error(customer.api.post(path, json={}), 400, "invalid_redirect_uri", "redirect_uri is required")
    assert_error(customer.api.post(path, json={"redirect_uri": "http://example.com/cb"}), 400,
                 "invalid_redirect_uri", "must use https")
    assert_error(customer.api.post(path, json={"redirect_uri": REDIRECT_URI, "state": "s" * 2049}),
                 400, "invalid_state", "state must be at most 2048 characters")
    assert_error(customer.connect(alice["id"], state="s" * 2049), 400, "invalid_state")
    response = customer.api.post(CONNECTIONS, json={"code": "x", "redirect_uri": REDIRECT_URI,
                                                    "allow_other_user": "yes"})
    assert_error(response, 400, "invalid_request", "allow_other_user")
    assert intents(customer) == []
