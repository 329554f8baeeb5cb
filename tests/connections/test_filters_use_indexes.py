"""Each list filter is answered from its index at 10k connections: the exact SELECT the
repository sends is captured and explained (EXPLAIN QUERY PLAN on SQLite, EXPLAIN (FORMAT
JSON) on PostgreSQL after ANALYZE). The plan is asserted, never a time.

Each filter here picks out a few dozen rows, as a real lookup (one end-user's email, one Zoom
account, one tenant id) does; a filter matching a large share of the table is rightly answered
by PostgreSQL with a scan, which is no slower for it."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from obfbroker.accounts.models import Account
from obfbroker.connections import repository
from obfbroker.connections.filters import ConnectionFilter
from obfbroker.connections.models import ConnectionMetadataEntry, ZoomConnection
from obfbroker.db.session import create_engine, create_session_factory
from obfbroker.pagination import encode_cursor
from obfbroker.settings import Settings
from tests.support.databases import TEST_KEY, new_postgres_database

ROWS = 10_000
ACCOUNT, OTHER = "acc_plans_main", "acc_plans_other"
START = datetime(2026, 1, 1, tzinfo=UTC)
TABLE = "zoom_connections"


def connection_row(i: int) -> dict[str, Any]:
    email = f"user{i:05d}@domain{i % 50}.example"
    return {"id": f"conn_{i:06d}", "account_id": ACCOUNT if i % 10 else OTHER,
            "zoom_user_id": f"zu{i}", "zoom_account_id": f"zacct-{i % 500}", "email": email,
            "email_lower": email, "display_name": f"User {i}",
            "metadata": {"team": f"team-{i % 500}", "tier": "gold" if i % 3 else "free"},
            "state": "disconnected" if i % 7 == 0 else "connected", "client_id": "cid",
            "scopes": "user:read:user", "token_generation": 0,
            "created_at": START + timedelta(seconds=i), "updated_at": START}


async def fill(engine: AsyncEngine) -> None:
    """10k connections (9k of one account) and their metadata rows, straight into the tables."""
    rows = [connection_row(i) for i in range(ROWS)]
    async with engine.begin() as conn:
        await conn.execute(insert(Account.__table__), [{"id": ACCOUNT, "name": "plans", "created_at": START},
                                             {"id": OTHER, "name": "other", "created_at": START}])
        await conn.execute(insert(ZoomConnection.__table__), rows)
        await conn.execute(insert(ConnectionMetadataEntry.__table__), [
            {"id": f"cmeta_{key}_{row['id']}", "connection_id": row["id"], "account_id": row["account_id"],
             "key": key, "value": row["metadata"][key], "created_at": row["created_at"]}
            for row in rows for key in row["metadata"]])
        await conn.exec_driver_sql("ANALYZE")


@dataclass
class Filled:
    """A database of its own holding the 10k rows, and the one event loop its engine runs on."""

    engine: AsyncEngine
    loop: asyncio.Runner

    def plan(self, where: ConnectionFilter, cursor: str | None = None) -> Any:
        return self.loop.run(explained(self.engine, where, cursor))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def filled(request, migrated_templates, tmp_path_factory) -> Iterator[Filled]:
    """Filled once per backend for the whole module (the rows are only read)."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            path = tmp_path_factory.mktemp("plans") / "plans.db"
            shutil.copyfile(migrated_templates["sqlite"], path)
            url = f"sqlite:///{path}"
        else:
            url = stack.enter_context(new_postgres_database(template=migrated_templates.get("postgresql")))
        loop = stack.enter_context(asyncio.Runner())
        engine = create_engine(Settings(database_url=url, encryption_keys=TEST_KEY))
        stack.callback(lambda: loop.run(engine.dispose()))
        loop.run(fill(engine))
        yield Filled(engine, loop)


async def explained(engine: AsyncEngine, where: ConnectionFilter, cursor: str | None) -> Any:
    """The plan of the SELECT ``connections_page`` sends for ``where`` (the statement and its
    parameters as the driver received them)."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:
        sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with create_session_factory(engine)() as session:
            rows, _ = await repository.connections_page(session, ACCOUNT, where, limit=100,
                                                        cursor=cursor)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    assert rows, "the filter matches some rows, so the plan is the one real pages use"
    (statement, parameters), = sent
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            result = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return [row[3] for row in result]
        result = await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
        plan = result.scalar()
        return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def postgres_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from postgres_nodes(child)


def assert_uses_index(dialect: str, plan: Any, table: str, index: str) -> None:
    """``table`` is read through ``index``, and zoom_connections is never read whole."""
    if dialect == "sqlite":
        assert any(line.startswith(f"SEARCH {table}")
                   and (f"USING INDEX {index} (" in line or f"USING COVERING INDEX {index} (" in line)
                   for line in plan), plan
        assert not any(line.startswith(f"SCAN {TABLE}") for line in plan), plan
        return
    nodes = list(postgres_nodes(plan))
    assert any(n.get("Index Name") == index and n.get("Index Cond") for n in nodes), \
        json.dumps(plan, indent=1)
    assert not any(n["Node Type"] == "Seq Scan" and n.get("Relation Name") == TABLE
                   for n in nodes), json.dumps(plan, indent=1)


METADATA_INDEX = "ix_zoom_connection_metadata_account_key_value_created"
AFTER = START + timedelta(seconds=ROWS - 200)
BEFORE = START + timedelta(seconds=200)
CASES = {
    "email prefix": (ConnectionFilter(email_prefix="user0012"), TABLE,
                     "ix_zoom_connections_account_email"),
    "email prefix, state": (ConnectionFilter(email_prefix="user0012", state="connected"), TABLE,
                            "ix_zoom_connections_account_email"),
    "zoom account": (ConnectionFilter(zoom_account_id="zacct-42"), TABLE,
                     "ix_zoom_connections_account_zoom_account"),
    "metadata": (ConnectionFilter(metadata=(("team", "team-42"),)), "zoom_connection_metadata",
                 METADATA_INDEX),
    "two metadata": (ConnectionFilter(metadata=(("team", "team-42"), ("team", "team-42"))),
                     "zoom_connection_metadata", METADATA_INDEX),
    "created after": (ConnectionFilter(created_since=AFTER), TABLE,
                      "ix_zoom_connections_account_created"),
    "created before": (ConnectionFilter(created_until=BEFORE), TABLE,
                       "ix_zoom_connections_account_created"),
    "created between": (ConnectionFilter(created_since=BEFORE, created_until=BEFORE + timedelta(
        seconds=300)), TABLE, "ix_zoom_connections_account_created"),
    "created after, state": (ConnectionFilter(created_since=AFTER, state="connected"), TABLE,
                             "ix_zoom_connections_account_state_created"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_filter_is_answered_from_its_index(filled: Filled, case: str):
    where, table, index = CASES[case]
    assert_uses_index(filled.engine.dialect.name, filled.plan(where), table, index)


def test_a_filtered_page_after_a_cursor_still_uses_the_index(filled: Filled):
    cursor = encode_cursor(START + timedelta(seconds=ROWS - 1000), "conn_009000")
    plan = filled.plan(ConnectionFilter(zoom_account_id="zacct-42"), cursor)
    assert_uses_index(filled.engine.dialect.name, plan, TABLE, "ix_zoom_connections_account_zoom_account")


def test_a_metadata_page_matching_thousands_reads_its_index_in_order(filled: Filled):
    """6 000 of the account's rows have tier=gold: the page walks the metadata index newest
    first and stops after it; nothing sorts the matches (what kept such pages from being flat)."""
    plan = filled.plan(ConnectionFilter(metadata=(("tier", "gold"),)))
    assert_uses_index(filled.engine.dialect.name, plan, "zoom_connection_metadata", METADATA_INDEX)
    if filled.engine.dialect.name == "sqlite":
        assert not any("TEMP B-TREE" in line for line in plan), plan
    else:
        assert not any(n["Node Type"] in ("Sort", "Incremental Sort") for n in postgres_nodes(plan)), \
            json.dumps(plan, indent=1)
