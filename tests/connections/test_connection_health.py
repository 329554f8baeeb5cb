"""Why a connection fails and what next: ``last_error`` (also while connected), the
``disconnected_reason`` codes with their ``reconnect_hint``, and the ``recovered`` event after
a long enough run of failures (time moved with the runtime's and the simulator's clocks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from obfbroker.clock import OffsetClock
from tests.support.bot_scenes import expire_stored_access_token, fetch_token
from tests.support.connection_scenes import (
    connection,
    connection_events,
    connection_row,
    hosted_bot_spec,
    unique_user,
    with_webhooks,
)
from tests.support.customers import Customer
from tests.support.errors import assert_error
from tests.support.runtimes import RuntimeSession
from tests.support.stack import Stack
from tests.support.zoom_events import point_sim_app_at_us

CONNECTIONS = "/api/v1/zoom/oauth/connections"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def assert_disconnected(customer: Customer, zoom_user_id: str, reason: str, *hint_words: str) -> dict:
    got = connection(customer, zoom_user_id)
    assert got["state"] == "disconnected" and got["has_refresh_token"] is False
    assert got["disconnected_reason"] == reason and got["disconnected_at"]
    assert got["last_error"]["code"] == reason and got["last_error"]["message"]
    assert at(got["last_error"]["at"]) <= datetime.now(UTC) + timedelta(seconds=5)
    for word in hint_words:
        assert word in got["reconnect_hint"], got["reconnect_hint"]
    listed = customer.api.get(CONNECTIONS, params={"state": "disconnected"}).json()["connections"]
    assert zoom_user_id in [c["zoom_user_id"] for c in listed], "stays listed until deleted or reconnected"
    return got


def reconnect_link(zoom_user_id: str) -> str:
    return f"POST /api/v1/zoom/oauth/connections/{zoom_user_id}/reconnect-url"


def test_zoom_down_is_the_last_error_of_a_connection_still_connected(customer: Customer):
    sim = customer.stack.sim
    erin = unique_user(customer.stack)
    assert customer.connect(erin["id"]).status_code == 200
    spec = hosted_bot_spec(customer, erin)
    fresh = connection(customer, erin["id"])
    assert fresh["last_error"] is None and fresh["reconnect_hint"] is None

    sim.faults(rate_5xx=1.0)
    assert fetch_token(customer.stack, spec).status_code == 503
    sim.faults(rate_5xx=0.0)
    down = connection(customer, erin["id"])
    assert down["state"] == "connected" and down["disconnected_reason"] is None
    assert down["reconnect_hint"] is None
    assert down["last_error"]["code"] == "zoom_unavailable"
    assert "token mint" in down["last_error"]["message"]

    sim.faults(rate_429=1.0)
    assert fetch_token(customer.stack, spec).status_code == 503
    sim.faults(rate_429=0.0)
    limited = connection(customer, erin["id"])["last_error"]
    assert limited["code"] == "zoom_rate_limited" and at(limited["at"]) >= at(down["last_error"]["at"])

    assert fetch_token(customer.stack, spec).status_code == 200
    after = connection(customer, erin["id"])
    assert after["last_error"] == limited, "kept after recovery: its `at` says how old it is"


def test_a_rejected_refresh_token_disconnects_with_a_reason_and_a_hint(customer: Customer):
    stack = customer.stack
    erin = unique_user(stack)
    assert customer.connect(erin["id"]).status_code == 200
    spec = hosted_bot_spec(customer, erin)
    stack.sim.revoke_user(erin["id"])
    expire_stored_access_token(stack, customer.account_id, erin["id"])

    refused = fetch_token(stack, spec)
    assert_error(refused, 409, "zoom_user_disconnected",
                 f"Zoom user {erin['id']} is disconnected (no valid refresh token)")
    assert_disconnected(customer, erin["id"], "refresh_token_invalid", reconnect_link(erin["id"]))


def test_app_deauthorized_disconnects_with_a_reason_and_a_hint_until_deleted(customer: Customer):
    sim = with_webhooks(customer).stack.sim
    erin = unique_user(customer.stack)
    assert customer.connect(erin["id"], metadata={"t": 1}).status_code == 200
    point_sim_app_at_us(customer)
    sim._ok(sim.http.post(f"/_sim/users/{erin['id']}/deauthorize",
                          json={"client_id": customer.app.client_id, "user_data_retention": "true"}))

    got = assert_disconnected(customer, erin["id"], "app_deauthorized", reconnect_link(erin["id"]))
    assert got["email"] == erin["email"] and got["metadata"] == {"t": 1}
    (event,) = [e for e in connection_events(customer.stack, customer.account_id)
                if e["type"] == "zoom_oauth_connection.disconnected"]
    assert event["data"]["reason"] == "app_deauthorized"

    assert customer.api.delete(f"{CONNECTIONS}/{erin['id']}").status_code == 200
    assert_error(customer.api.get(f"{CONNECTIONS}/{erin['id']}"), 404, "zoom_user_not_connected")


def test_a_user_deleted_at_zoom_disconnects_as_deleted_at_zoom(customer: Customer):
    stack = with_webhooks(customer).stack
    erin = unique_user(stack)
    assert customer.connect(erin["id"]).status_code == 200
    spec = hosted_bot_spec(customer, erin)
    removed = stack.sim._ok(stack.sim.http.delete(f"/_sim/users/{erin['id']}"))
    assert removed == {"user_id": erin["id"], "revoked_grants": 1}

    # Our access token is still unexpired: Zoom answers 404 code 1001 to it.
    refused = fetch_token(stack, spec)
    assert_error(refused, 409, "zoom_user_disconnected")
    got = assert_disconnected(customer, erin["id"], "deleted_at_zoom", "no longer exists",
                              f"DELETE /api/v1/zoom/oauth/connections/{erin['id']}")
    assert "1001" in got["last_error"]["message"]
    (event,) = [e for e in connection_events(stack, customer.account_id)
                if e["type"] == "zoom_oauth_connection.disconnected"]
    assert event["data"]["reason"] == "deleted_at_zoom" and event["data"]["state"] == "disconnected"
    assert stack.sim.http.get(f"/_sim/users/{erin['id']}").status_code == 404


# -- recovery ------------------------------------------------------------------------------------


class Clocks:
    """obfbroker's clock (a runtime of the test's own, acting as a worker) and the simulator's,
    moved forward together."""

    def __init__(self, stack: Stack) -> None:
        self.stack, self.clock = stack, OffsetClock()
        self.runtimes = RuntimeSession(stack.settings, clock=self.clock)

    def advance(self, seconds: float) -> None:
        self.stack.sim._ok(self.stack.sim.http.post("/_sim/clock", json={"advance_seconds": seconds}))
        self.clock.advance(timedelta(seconds=seconds))

    def refresh(self, connection_id: str) -> str:
        """A refresh, forced as keep-alive forces one; returns "ok" or the error code."""
        async def work(runtime) -> str:
            try:
                later = self.clock.now() + timedelta(days=1)
                await runtime.tokens.keep_alive(connection_id, stale_before=later)
                return "ok"
            except Exception as err:
                return getattr(err, "code", repr(err))

        return self.runtimes.run(work)


@pytest.fixture
def clocks(stack: Stack):
    machine = Clocks(stack)
    yield machine
    machine.runtimes.close()


@pytest.mark.parametrize(("outage_seconds", "announced"), [(301, True), (30, False)])
def test_recovery_after_a_long_outage_is_an_event(customer: Customer, clocks: Clocks,
                                                  outage_seconds: int, announced: bool):
    stack = with_webhooks(customer).stack
    erin = unique_user(stack)
    assert customer.connect(erin["id"], metadata={"tenant_user_id": "erin"}).status_code == 200
    connection_id = connection_row(stack, customer.account_id, erin["id"]).id

    stack.sim.faults(rate_5xx=1.0)
    assert clocks.refresh(connection_id) == "zoom_unavailable"
    failing_since = connection_row(stack, customer.account_id, erin["id"]).failing_since
    clocks.advance(outage_seconds / 2)
    assert clocks.refresh(connection_id) == "zoom_unavailable"
    row = connection_row(stack, customer.account_id, erin["id"])
    assert row.failing_since == failing_since, "the run started with its first failure"
    clocks.advance(outage_seconds / 2)
    stack.sim.faults(rate_5xx=0.0)
    assert clocks.refresh(connection_id) == "ok"

    assert connection_row(stack, customer.account_id, erin["id"]).failing_since is None
    got = connection(customer, erin["id"])
    assert got["state"] == "connected" and got["last_error"]["code"] == "zoom_unavailable"
    recovered = [e for e in connection_events(stack, customer.account_id)
                 if e["type"] == "zoom_oauth_connection.recovered"]
    if not announced:
        assert recovered == [], "a short blip stays quiet"
        return
    (event,) = recovered
    data = event["data"]
    assert data["zoom_user_id"] == erin["id"] and data["state"] == "connected"
    assert data["email"] == erin["email"] and data["metadata"] == {"tenant_user_id": "erin"}
    assert at(data["recovered_at"]) - at(data["failing_since"]) >= timedelta(seconds=outage_seconds)
    assert data["last_error"]["code"] == "zoom_unavailable"
    assert data["last_error"] == got["last_error"]

    assert clocks.refresh(connection_id) == "ok"
    again = [e for e in connection_events(stack, customer.account_id)
             if e["type"] == "zoom_oauth_connection.recovered"]
    assert len(again) == 1, "announced once"


def test_keepalive_failures_are_recorded_as_the_last_error(customer: Customer, clocks: Clocks):
    from sqlalchemy import update

    from obfbroker.connections.keepalive import ZoomAccountBudget, keepalive_round
    from obfbroker.connections.models import ZoomConnection

    stack = customer.stack
    erin = unique_user(stack)
    assert customer.connect(erin["id"]).status_code == 200
    connection_id = connection_row(stack, customer.account_id, erin["id"]).id

    async def due_and_round(runtime):
        async with runtime.sessions() as session:
            # Due long ago: first in line, whatever else this database holds.
            await session.execute(update(ZoomConnection).where(ZoomConnection.id == connection_id)
                                  .values(next_keepalive_at=datetime(2000, 1, 1, tzinfo=UTC)))
            await session.commit()
        return await keepalive_round(runtime.connections, ZoomAccountBudget(), limit=1)

    stack.sim.faults(rate_5xx=1.0)
    report = clocks.runtimes.run(due_and_round)
    stack.sim.faults(rate_5xx=0.0)
    assert report.failed == 1
    got = connection(customer, erin["id"])
    assert got["state"] == "connected"
    assert got["last_error"]["code"] == "zoom_unavailable" and "token refresh" in got["last_error"]["message"]
