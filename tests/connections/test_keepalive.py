"""Keep-alive: idle connections outlive Zoom's 90-day idle expiry; workers never double up."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from obfbroker.clock import OffsetClock
from obfbroker.connections.keepalive import ZoomAccountBudget, keepalive_round
from obfbroker.runtime import Runtime
from tests.support.customers import Customer
from tests.support.stack import Stack


@pytest.fixture
def database_url(fresh_database_url: str) -> str:
    """A database of its own: a keep-alive round refreshes every due connection in the database,
    and moving the clock 200 days makes every other test's connections due too."""
    return fresh_database_url

DAY = timedelta(days=1)


class TimeMachine:
    """Moves the simulator's clock and obfbroker's clock forward together."""

    def __init__(self, stack: Stack) -> None:
        self.stack, self.clock = stack, OffsetClock()

    def advance(self, delta: timedelta) -> None:
        self.stack.sim._ok(self.stack.sim.http.post("/_sim/clock",
                                                    json={"advance_seconds": delta.total_seconds()}))
        self.clock.advance(delta)

    async def runtime(self) -> Runtime:
        return await Runtime.start(self.stack.settings, clock=self.clock)


async def _mint(runtime: Runtime, customer: Customer, zoom_user_id: str) -> str:
    from sqlalchemy import select

    from obfbroker.connections.models import ZoomConnection

    async with runtime.sessions() as session:
        connection_id = (await session.execute(select(ZoomConnection.id).where(
            ZoomConnection.account_id == customer.account_id,
            ZoomConnection.zoom_user_id == zoom_user_id))).scalar_one()
    return await runtime.tokens.mint(connection_id, token_type="zak", meeting_id=None)


def test_keepalive_keeps_an_idle_connection_alive_for_200_days(customer: Customer):
    sim, machine = customer.stack.sim, TimeMachine(customer.stack)
    alice = sim.create_user("Alice")
    assert customer.connect(alice["id"]).status_code == 200

    async def scenario() -> int:
        runtime, budget, refreshed = await machine.runtime(), ZoomAccountBudget(), 0
        try:
            for _ in range(200):
                machine.advance(DAY)
                refreshed += (await keepalive_round(runtime.connections, budget)).refreshed
            assert await _mint(runtime, customer, alice["id"])  # Zoom still honours the grant
            return refreshed
        finally:
            await runtime.close()

    refreshed = asyncio.run(scenario())
    assert 6 <= refreshed <= 9, "about one refresh per keep-alive period, never a storm"
    assert sim.stats()["invalid_grant"] == 0
    connection = customer.api.get(f"/api/v1/zoom/oauth/connections/{alice['id']}").json()
    assert connection["state"] == "connected" and connection["has_refresh_token"] is True


def test_an_unattended_refresh_token_dies_after_90_days(customer: Customer):
    sim, machine = customer.stack.sim, TimeMachine(customer.stack)
    alice = sim.create_user("Alice")
    assert customer.connect(alice["id"]).status_code == 200
    machine.advance(91 * DAY)

    async def scenario():
        runtime = await machine.runtime()
        try:
            with pytest.raises(Exception) as raised:
                await _mint(runtime, customer, alice["id"])
            return raised.value
        finally:
            await runtime.close()

    error = asyncio.run(scenario())
    assert getattr(error, "code", None) == "zoom_user_disconnected"
    connection = customer.api.get(f"/api/v1/zoom/oauth/connections/{alice['id']}").json()
    assert connection["state"] == "disconnected"
    assert connection["disconnected_reason"] == "refresh_token_invalid"
    assert connection["has_refresh_token"] is False


def test_a_connection_refreshed_recently_is_not_refreshed_by_keepalive(customer: Customer):
    sim, machine = customer.stack.sim, TimeMachine(customer.stack)
    alice = sim.create_user("Alice")
    customer.connect(alice["id"])

    async def scenario() -> int:
        runtime = await machine.runtime()
        try:
            machine.advance(10 * DAY)
            return (await keepalive_round(runtime.connections, ZoomAccountBudget())).refreshed
        finally:
            await runtime.close()

    before = sim.stats()["refreshes"]
    assert asyncio.run(scenario()) == 0
    assert sim.stats()["refreshes"] == before


def test_two_workers_never_refresh_the_same_connection_in_one_round(customer: Customer):
    sim, machine = customer.stack.sim, TimeMachine(customer.stack)
    users = [sim.create_user(f"User{i}") for i in range(24)]
    for user in users:
        assert customer.connect(user["id"]).status_code == 200
    machine.advance(31 * DAY)
    before = sim.stats()

    async def two_workers():
        first, second = await machine.runtime(), await machine.runtime()
        try:
            budget = ZoomAccountBudget(per_minute=1000)
            return await asyncio.gather(keepalive_round(first.connections, budget, limit=10),
                                        keepalive_round(second.connections, budget, limit=10),
                                        keepalive_round(first.connections, budget, limit=10),
                                        keepalive_round(second.connections, budget, limit=10))
        finally:
            await first.close()
            await second.close()

    reports = asyncio.run(two_workers())
    after = sim.stats()
    assert sum(report.refreshed for report in reports) == len(users)
    assert after["refreshes"] - before["refreshes"] == len(users)
    per_user = after["per_user"]
    for user in users:
        previous = before["per_user"].get(user["id"], {}).get("refreshes", 0)
        assert per_user[user["id"]]["refreshes"] - previous == 1, "refreshed exactly once"


def test_the_budget_per_zoom_account_defers_the_excess(customer: Customer):
    sim, machine = customer.stack.sim, TimeMachine(customer.stack)
    users = [sim.create_user(f"Team{i}", account_id="SameZoomAccount") for i in range(5)]
    for user in users:
        customer.connect(user["id"])
    machine.advance(31 * DAY)

    async def scenario():
        runtime = await machine.runtime()
        try:
            budget = ZoomAccountBudget(per_minute=2)
            first = await keepalive_round(runtime.connections, budget)
            machine.advance(timedelta(minutes=2))
            return first
        finally:
            await runtime.close()

    report = asyncio.run(scenario())
    assert report.refreshed == 2 and report.deferred == 3
