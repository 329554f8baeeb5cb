"""PATCH /api/v1/zoom/oauth/connections/{zoom_user_id} {"metadata"}: replaces the metadata and
nothing else, keeps the filter's index rows in step, refuses any other field."""

from __future__ import annotations

from sqlalchemy import select

from obfbroker.connections.models import ConnectionMetadataEntry, ZoomConnection
from tests.support.customers import Customer, in_database, make_customer
from tests.support.errors import assert_error
from tests.support.waiting import clock_past

CONNECTIONS = "/api/v1/zoom/oauth/connections"


def index_rows(customer: Customer, zoom_user_id: str) -> dict[str, str]:
    """The connection's metadata index rows as stored, key -> value."""
    async def read(session):
        rows = await session.execute(
            select(ConnectionMetadataEntry.key, ConnectionMetadataEntry.value)
            .join(ZoomConnection, ZoomConnection.id == ConnectionMetadataEntry.connection_id)
            .where(ZoomConnection.account_id == customer.account_id,
                   ZoomConnection.zoom_user_id == zoom_user_id))
        return dict(rows.all())

    return in_database(customer.stack, read)


def test_patch_replaces_the_metadata_and_nothing_else(customer: Customer):
    alice = customer.stack.sim.create_user("Alice")
    made = customer.connect(alice["id"], metadata={"tenant": "t-1", "plan": "pro"}).json()
    before = customer.api.get(f"{CONNECTIONS}/{alice['id']}").json()
    clock_past(before["updated_at"])  # so the PATCH's updated_at is a later millisecond

    response = customer.api.patch(f"{CONNECTIONS}/{alice['id']}",
                                  json={"metadata": {"tenant": "t-2", "seats": 3, "vip": True}})
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["metadata"] == {"tenant": "t-2", "seats": 3, "vip": True}
    assert patched["updated_at"] > before["updated_at"]
    unchanged = {k: v for k, v in before.items() if k not in ("metadata", "updated_at")}
    assert {k: patched[k] for k in unchanged} == unchanged
    assert patched["created_at"] == made["created_at"]
    assert customer.api.get(f"{CONNECTIONS}/{alice['id']}").json() == patched
    assert index_rows(customer, alice["id"]) == {"tenant": "t-2", "seats": "3", "vip": "true"}

    found = customer.api.get(CONNECTIONS, params={"metadata.tenant": "t-2"}).json()["connections"]
    assert [c["zoom_user_id"] for c in found] == [alice["id"]]
    assert customer.api.get(CONNECTIONS, params={"metadata.plan": "pro"}).json()["connections"] == []


def test_patch_to_an_empty_object_clears_the_metadata(customer: Customer):
    alice = customer.stack.sim.create_user("Alice")
    customer.connect(alice["id"], metadata={"tenant": "t-1"})
    response = customer.api.patch(f"{CONNECTIONS}/{alice['id']}", json={"metadata": {}})
    assert response.status_code == 200 and response.json()["metadata"] == {}
    assert index_rows(customer, alice["id"]) == {}


def test_only_searchable_scalars_get_index_rows(customer: Customer):
    alice = customer.stack.sim.create_user("Alice")
    customer.connect(alice["id"])
    metadata = {"n": None, "f": 1.5, "list": [1], "obj": {"a": 1}, "long": "x" * 501,
                "k" * 201: "long key", "ok": "x" * 500}
    assert customer.api.patch(f"{CONNECTIONS}/{alice['id']}", json={"metadata": metadata}).status_code == 200
    assert index_rows(customer, alice["id"]) == {"n": "null", "f": "1.5", "ok": "x" * 500}
    assert customer.api.get(f"{CONNECTIONS}/{alice['id']}").json()["metadata"] == metadata


def test_any_other_field_is_refused_and_nothing_changes(customer: Customer):
    alice = customer.stack.sim.create_user("Alice")
    customer.connect(alice["id"], metadata={"tenant": "t-1"})
    before = customer.api.get(f"{CONNECTIONS}/{alice['id']}").json()
    for body in ({"metadata": {"tenant": "t-2"}, "email": "x@example.com"},
                 {"metadata": {"tenant": "t-2"}, "state": "disconnected"},
                 {"display_name": "Someone"}, {}):
        assert_error(customer.api.patch(f"{CONNECTIONS}/{alice['id']}", json=body), 400,
                     "invalid_request")
    assert_error(customer.api.patch(f"{CONNECTIONS}/{alice['id']}", content=b"[1]",
                                    headers={"Content-Type": "application/json"}), 400, "invalid_request")
    assert customer.api.get(f"{CONNECTIONS}/{alice['id']}").json() == before
    assert index_rows(customer, alice["id"]) == {"tenant": "t-1"}


def test_metadata_follows_connection_creates_rules(customer: Customer):
    alice = customer.stack.sim.create_user("Alice")
    customer.connect(alice["id"], metadata={"tenant": "t-1"})
    for bad in (None, "tenant", [1, 2], 7):
        assert_error(customer.api.patch(f"{CONNECTIONS}/{alice['id']}", json={"metadata": bad}),
                     400, "invalid_metadata", "metadata must be a JSON object")
    big = {"blob": "x" * (16 * 1024)}
    assert_error(customer.api.patch(f"{CONNECTIONS}/{alice['id']}", json={"metadata": big}),
                 400, "invalid_metadata", "metadata must be at most 16384 bytes")
    assert customer.api.get(f"{CONNECTIONS}/{alice['id']}").json()["metadata"] == {"tenant": "t-1"}


def test_an_unknown_or_other_accounts_user_is_a_404(customer: Customer):
    assert_error(customer.api.patch(f"{CONNECTIONS}/nobody123", json={"metadata": {}}), 404,
                 "zoom_user_not_connected", "Zoom user nobody123 is not connected for this account")
    other = make_customer(customer.stack, name="other")
    bob = customer.stack.sim.create_user("Bob")
    other.connect(bob["id"], metadata={"mine": "yes"})
    assert_error(customer.api.patch(f"{CONNECTIONS}/{bob['id']}", json={"metadata": {}}), 404,
                 "zoom_user_not_connected", f"Zoom user {bob['id']} is not connected for this account")
    assert other.api.get(f"{CONNECTIONS}/{bob['id']}").json()["metadata"] == {"mine": "yes"}
    other.api.close()
