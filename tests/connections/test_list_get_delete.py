"""Listing, fetching and deleting connections; tenant isolation; revoke on delete (erasing is
tests/connections/test_delete_erases.py)."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.customers import Customer, make_customer
from tests.support.errors import assert_error
from tests.support.zoom_events import point_sim_app_at_us

CONNECTIONS = "/api/v1/zoom/oauth/connections"


def stored_refresh_token(customer: Customer, zoom_user_id: str) -> str:
    """The plaintext refresh token, decrypted from the database as the service would."""
    from sqlalchemy import select

    from obfbroker.connections.models import ZoomConnection
    from obfbroker.runtime import Runtime

    async def read() -> str:
        runtime = await Runtime.start(customer.stack.settings)
        try:
            async with runtime.sessions() as session:
                row = (await session.execute(select(ZoomConnection).where(
                    ZoomConnection.account_id == customer.account_id,
                    ZoomConnection.zoom_user_id == zoom_user_id))).scalar_one()
                return runtime.vault.decrypt(row.refresh_token, table="zoom_connections",
                                             column="refresh_token", row_id=row.id)
        finally:
            await runtime.close()

    return asyncio.run(read())


def test_unknown_connection_is_a_404_with_the_guides_message(customer: Customer):
    for method in ("get", "delete"):
        response = getattr(customer.api, method)(f"{CONNECTIONS}/nobody123")
        assert_error(response, 404, "zoom_user_not_connected",
                     "Zoom user nobody123 is not connected for this account")


def test_delete_revokes_the_grant_at_zoom_and_deletes_the_token_material(customer: Customer):
    sim = customer.stack.sim
    alice = sim.create_user("Alice")
    customer.connect(alice["id"], metadata={"tenant_user_id": "a"})
    refresh_token = stored_refresh_token(customer, alice["id"])
    revokes = sim.stats()["revokes"]

    response = customer.api.delete(f"{CONNECTIONS}/{alice['id']}")
    assert response.status_code == 200
    assert response.json() == {"message": f"Zoom user {alice['id']} disconnected",
                               "zoom_user_id": alice["id"]}
    assert sim.stats()["revokes"] == revokes + 1
    dead = sim.refresh_directly(customer.app, refresh_token)
    assert dead.status_code in (400, 401) and dead.json()["error"] == "invalid_grant"

    gone = f"Zoom user {alice['id']} is not connected for this account"
    assert_error(customer.api.get(f"{CONNECTIONS}/{alice['id']}"), 404, "zoom_user_not_connected", gone)
    assert_error(customer.api.delete(f"{CONNECTIONS}/{alice['id']}"), 404, "zoom_user_not_connected", gone)
    assert sim.stats()["revokes"] == revokes + 1, "nothing left to revoke"


def test_a_failed_revoke_never_blocks_the_delete(customer: Customer):
    sim = customer.stack.sim
    alice = sim.create_user("Alice")
    customer.connect(alice["id"])
    sim.faults(rate_5xx=1.0)
    response = customer.api.delete(f"{CONNECTIONS}/{alice['id']}")
    sim.faults(rate_5xx=0.0)
    assert response.status_code == 200
    assert_error(customer.api.get(f"{CONNECTIONS}/{alice['id']}"), 404, "zoom_user_not_connected")


def test_another_account_sees_and_deletes_nothing_of_the_first(customer: Customer):
    sim = customer.stack.sim
    alice = sim.create_user("Alice")
    customer.connect(alice["id"])
    intruder = make_customer(customer.stack, name="intruder")
    revokes = sim.stats()["revokes"]

    assert intruder.api.get(CONNECTIONS).json() == {"connections": [], "next_cursor": None}
    assert_error(intruder.api.get(f"{CONNECTIONS}/{alice['id']}"), 404, "zoom_user_not_connected")
    assert_error(intruder.api.delete(f"{CONNECTIONS}/{alice['id']}"), 404, "zoom_user_not_connected")
    assert sim.stats()["revokes"] == revokes
    assert customer.api.get(f"{CONNECTIONS}/{alice['id']}").json()["state"] == "connected"


def test_the_same_zoom_user_can_be_connected_by_two_accounts_independently(customer: Customer):
    sim = customer.stack.sim
    alice = sim.create_user("Alice")
    other = make_customer(customer.stack, name="other")
    assert customer.connect(alice["id"], metadata={"t": 1}).status_code == 200
    assert other.connect(alice["id"], metadata={"t": 2}).status_code == 200
    other.api.delete(f"{CONNECTIONS}/{alice['id']}")
    mine = customer.api.get(f"{CONNECTIONS}/{alice['id']}").json()
    assert mine["state"] == "connected" and mine["metadata"] == {"t": 1}


def test_listing_pages_newest_first_and_filters_by_state(customer: Customer):
    sim = customer.stack.sim
    everyone = [sim.create_user(f"User{i}") for i in range(6)]
    for user in everyone:
        assert customer.connect(user["id"]).status_code == 200
    point_sim_app_at_us(customer)
    sim._ok(sim.http.post(f"/_sim/users/{everyone[1]['id']}/deauthorize",
                          json={"client_id": customer.app.client_id}))
    assert customer.api.delete(f"{CONNECTIONS}/{everyone[4]['id']}").status_code == 200
    users = [user for user in everyone if user is not everyone[4]]  # a deleted one is gone

    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = customer.api.get(CONNECTIONS, params=params).json()
        assert len(page["connections"]) <= 2
        seen += [c["zoom_user_id"] for c in page["connections"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [u["id"] for u in reversed(users)]

    connected = customer.api.get(CONNECTIONS, params={"state": "connected"}).json()["connections"]
    assert [c["zoom_user_id"] for c in connected] == [u["id"] for u in reversed(users) if u is not users[1]]
    disconnected = customer.api.get(CONNECTIONS, params={"state": "disconnected"}).json()["connections"]
    assert [c["zoom_user_id"] for c in disconnected] == [users[1]["id"]]


def test_the_first_page_without_a_limit_holds_a_hundred(customer: Customer):
    sim = customer.stack.sim
    users = [sim.create_user(f"User{i}") for i in range(101)]
    for user in users:
        assert customer.connect(user["id"]).status_code == 200
    first = customer.api.get(CONNECTIONS).json()
    assert len(first["connections"]) == 100 and first["next_cursor"] is not None
    rest = customer.api.get(CONNECTIONS, params={"cursor": first["next_cursor"]}).json()
    assert [c["zoom_user_id"] for c in rest["connections"]] == [users[0]["id"]]
    everyone = customer.api.get(CONNECTIONS, params={"limit": 200}).json()
    assert len(everyone["connections"]) == 101 and everyone["next_cursor"] is None


@pytest.mark.parametrize(("params", "code"), [
    ({"limit": 0}, "invalid_request"), ({"limit": 201}, "invalid_request"),
    ({"limit": "many"}, "invalid_request"), ({"cursor": "not-a-cursor"}, "invalid_cursor"),
    ({"state": "sleeping"}, "invalid_state_filter"),
])
def test_bad_list_parameters_are_400s(customer: Customer, params, code):
    assert_error(customer.api.get(CONNECTIONS, params=params), 400, code)
