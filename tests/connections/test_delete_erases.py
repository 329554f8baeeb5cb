"""DELETE erases: no trace of the end-user is left in the database (the SQLite files are read
byte by byte; on PostgreSQL every row of every table), the API answers as if they were never
connected, bots keep their history, and a DELETE racing a token refresh leaves no grant alive
at Zoom."""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from obfbroker.clock import OffsetClock
from tests.support.bot_scenes import CREATE, new_meeting
from tests.support.connection_scenes import connection_events, connection_row, unique_user
from tests.support.customers import Customer, make_customer
from tests.support.errors import assert_error
from tests.support.runtimes import RuntimeSession
from tests.support.sim import REDIRECT_URI
from tests.support.stack import Stack

CONNECTIONS = "/api/v1/zoom/oauth/connections"


def every_stored_row(stack: Stack) -> str:
    """Every row of every table of the schema, as text."""
    from sqlalchemy import select

    import obfbroker.app  # noqa: F401 - registers every model with the metadata
    from obfbroker.db.base import Base

    async def work(runtime):
        async with runtime.sessions() as session:
            rows = []
            for table in Base.metadata.sorted_tables:
                rows += [repr(tuple(row)) for row in (await session.execute(select(table))).all()]
            return "\n".join(rows)

    with RuntimeSession(stack.settings) as runtimes:
        return runtimes.run(work)


# Run in a process of its own: closing any file descriptor of the database file drops every
# POSIX lock this process holds on it, which would let another process delete the log the
# server still uses (sqlite.org/howtocorrupt.html, 2.2).
FIND_IN_FILES = """
import json, sys
from pathlib import Path
path, traces = Path(sys.argv[1]), json.loads(sys.argv[2])
raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
print(json.dumps([t for t in traces if t.encode() in raw]))
"""


def traces_in_database_files(stack: Stack, traces: list[str]) -> list[str]:
    """Those of ``traces`` found in the SQLite database file or its write-ahead log, on disk."""
    path = stack.settings.database_url.split(":///", 1)[1]
    found = subprocess.run([sys.executable, "-c", FIND_IN_FILES, path, json.dumps(traces)],
                           capture_output=True, text=True, check=True, timeout=60)
    return json.loads(found.stdout)


def assert_no_trace(stack: Stack, traces: list[str]) -> None:
    stored = every_stored_row(stack)
    for trace in traces:
        assert trace not in stored, f"{trace[:40]!r} is still stored"
    if stack.settings.is_sqlite:
        assert traces_in_database_files(stack, traces) == [], "still in the database file"


def test_delete_erases_every_trace_of_the_end_user(customer: Customer):
    stack, sim = customer.stack, customer.stack.sim
    endpoint = customer.api.put("/api/v1/webhooks", json={"url": "https://customer.example.com/obf"})
    assert endpoint.status_code == 200, endpoint.text
    erin, bob = unique_user(stack, "Erin"), unique_user(stack, "Bob")
    tenant = f"tenant-{secrets.token_hex(6)}"
    # Several KiB of metadata: stored beyond the row's page (SQLite overflow pages).
    metadata = {"tenant_user_id": tenant, "notes": f"{tenant}-" + "n" * 6000}
    code = sim.authorize(customer.app, erin["id"])
    body = {"code": code, "redirect_uri": REDIRECT_URI, "metadata": metadata}
    connected = customer.api.post(CONNECTIONS, json=body, headers={"Idempotency-Key": "erin-1"})
    assert connected.status_code == 200, connected.text
    assert customer.connect(bob["id"]).status_code == 200
    meeting = new_meeting(stack, erin["id"])
    bot = customer.api.post(CREATE, json={
        "meeting_link": meeting.join_url, "bot_name": "Notes",
        "zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": erin["id"]}})
    assert bot.status_code == 201, bot.text
    row = connection_row(stack, customer.account_id, erin["id"])
    traces = [erin["email"], erin["email"].lower(), erin["display_name"], tenant,
              row.access_token, row.refresh_token]

    deleted = customer.api.delete(f"{CONNECTIONS}/{erin['id']}")
    assert deleted.status_code == 200
    assert deleted.json() == {"message": f"Zoom user {erin['id']} disconnected", "zoom_user_id": erin["id"]}

    assert_no_trace(stack, traces)
    gone = f"Zoom user {erin['id']} is not connected for this account"
    assert_error(customer.api.get(f"{CONNECTIONS}/{erin['id']}"), 404, "zoom_user_not_connected", gone)
    listed = customer.api.get(CONNECTIONS).json()["connections"]
    assert [c["zoom_user_id"] for c in listed] == [bob["id"]]
    again = customer.api.post(CREATE, json={
        "meeting_link": meeting.join_url, "bot_name": "Notes",
        "zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": erin["id"]}})
    assert_error(again, 400, "zoom_user_not_connected", gone)
    assert_error(customer.api.delete(f"{CONNECTIONS}/{erin['id']}"), 404, "zoom_user_not_connected", gone)

    history = customer.api.get(f"/api/v1/bots/{bot.json()['bot_id']}")
    assert history.status_code == 200, "bots keep their history"
    assert history.json()["zoom"]["zoom_oauth_connection_user_id"] == erin["id"]

    retried = customer.api.post(CONNECTIONS, json=body, headers={"Idempotency-Key": "erin-1"})
    assert "Idempotent-Replayed" not in retried.headers, "the recorded answer naming Erin is gone"
    assert retried.status_code == 400 and erin["email"] not in retried.text

    events = connection_events(stack, customer.account_id)
    erins = [e for e in events if e["data"]["zoom_user_id"] == erin["id"]]
    assert [e["type"] for e in erins] == ["zoom_oauth_connection.connected",
                                         "zoom_oauth_connection.disconnected"]
    for event in erins:
        assert (event["data"]["email"], event["data"]["display_name"], event["data"]["metadata"]) \
            == ("", "", {}), "the end-user's identity is scrubbed from the events about them"
    disconnected = erins[1]["data"]
    assert disconnected["reason"] == "deleted" and disconnected["state"] == "disconnected"
    assert disconnected["disconnected_at"] and disconnected["zoom_account_id"] == erin["account_id"]
    (bobs,) = [e for e in events if e["data"]["zoom_user_id"] == bob["id"]]
    assert bobs["data"]["email"] == bob["email"], "other users' events are left alone"


def test_a_deleted_user_can_connect_again_as_new(customer: Customer):
    erin = unique_user(customer.stack)
    first = customer.connect(erin["id"], metadata={"n": 1}).json()
    assert customer.api.delete(f"{CONNECTIONS}/{erin['id']}").status_code == 200
    again = customer.connect(erin["id"])
    assert again.status_code == 200, again.text
    assert again.json()["metadata"] == {}, "nothing of the erased connection comes back"
    assert again.json()["created_at"] > first["created_at"]


# -- DELETE racing a refresh (PostgreSQL: row locks across processes) ----------------------------


def wait_for_row_lock(stack: Stack) -> None:
    """Until a transaction of this database holds a connection's row lock: SELECT ... FOR UPDATE
    takes ROW SHARE on the table, which nothing else here takes."""
    import psycopg

    dsn = stack.settings.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for _ in range(400):
            held = conn.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "JOIN pg_database d ON d.oid = l.database WHERE d.datname = current_database() "
                "AND c.relname = 'zoom_connections' AND l.mode = 'RowShareLock' AND l.granted"
            ).fetchone()[0]
            if held:
                return
            time.sleep(0.025)
    raise AssertionError("nobody took the connection's row lock")


def live_grants(stack: Stack, zoom_user_id: str) -> list[dict[str, Any]]:
    grants = stack.sim._ok(stack.sim.http.get(f"/_sim/users/{zoom_user_id}/grants"))["grants"]
    return [g for g in grants if g["alive"]]


def last_refresh_token_issued(stack: Stack, zoom_user_id: str) -> str:
    """The refresh token the simulator issued last for the user (read from its state)."""
    (grant,) = [g for g in stack.sim.app.state.sim.grants.grants.values() if g.user_id == zoom_user_id]
    return grant.refresh_token


@pytest.mark.parametrize("first", ["refresh", "delete"])
def test_a_delete_racing_a_refresh_leaves_no_grant_alive_at_zoom(customer: Customer, first: str):
    stack = customer.stack
    if stack.settings.is_sqlite:
        pytest.skip("row locks across processes: PostgreSQL (SQLite serialises every writer)")
    erin = unique_user(stack)
    assert customer.connect(erin["id"], metadata={"who": erin["display_name"]}).status_code == 200
    connection_id = connection_row(stack, customer.account_id, erin["id"]).id
    refreshes = stack.sim.stats()["refreshes"]
    stack.sim.faults(latency_ms=1500)  # every Zoom call holds its lock for a while
    deleted: dict[str, Any] = {}

    def delete() -> None:
        deleted["response"] = stack.client(customer.api_key).delete(f"{CONNECTIONS}/{erin['id']}")

    async def refresh(runtime) -> str:
        # Another process (its own runtime and pool) refreshing, as keep-alive would.
        later = runtime.clock.now().replace(year=runtime.clock.now().year + 1)
        try:
            await runtime.tokens.keep_alive(connection_id, stale_before=later)
            return "refreshed"
        except Exception as err:
            return getattr(err, "code", repr(err))

    deleting = threading.Thread(target=delete)
    with RuntimeSession(stack.settings, clock=OffsetClock()) as runtimes:
        runtimes.run(lambda runtime: asyncio.sleep(0))  # started before the race begins
        if first == "refresh":
            async def refresh_then_delete(runtime) -> str:
                task = asyncio.ensure_future(refresh(runtime))
                await asyncio.to_thread(wait_for_row_lock, stack)
                deleting.start()
                return await task
            outcome = runtimes.run(refresh_then_delete)
        else:
            deleting.start()
            wait_for_row_lock(stack)
            outcome = runtimes.run(refresh)
        deleting.join(timeout=60)
    stack.sim.faults(latency_ms=0)

    assert deleted["response"].status_code == 200, deleted["response"].text
    if first == "refresh":
        assert outcome == "refreshed"
        assert stack.sim.stats()["refreshes"] == refreshes + 1
    else:
        assert outcome == "zoom_user_disconnected", "the refresh found the row gone"
        assert stack.sim.stats()["refreshes"] == refreshes, "and asked Zoom nothing"
    assert live_grants(stack, erin["id"]) == []
    dead = stack.sim.refresh_directly(customer.app, last_refresh_token_issued(stack, erin["id"]))
    assert dead.status_code == 400 and dead.json()["error"] == "invalid_grant"
    assert_no_trace(stack, [erin["email"], erin["display_name"]])
    assert_error(customer.api.get(f"{CONNECTIONS}/{erin['id']}"), 404, "zoom_user_not_connected")


def test_another_accounts_delete_leaves_its_connection_of_the_same_user(customer: Customer):
    erin = unique_user(customer.stack)
    other = make_customer(customer.stack, name="other")
    assert customer.connect(erin["id"]).status_code == 200
    assert other.connect(erin["id"]).status_code == 200
    assert other.api.delete(f"{CONNECTIONS}/{erin['id']}").status_code == 200
    mine = customer.api.get(f"{CONNECTIONS}/{erin['id']}").json()
    assert mine["state"] == "connected" and mine["email"] == erin["email"]
    other.api.close()
