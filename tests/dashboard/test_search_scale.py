"""The connections page at 100 000 connections: every page and search walks an index of the
account's rows in order (no sort, no scan of other accounts) and reads a bounded window of them.

Cost is measured in SQLite virtual-machine steps (a progress handler counts them), which depend
on the data and the plan, not on how busy the machine is: no assertion here reads a clock."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from obfbroker.accounts.models import Account
from obfbroker.dashboard.repository import SearchPage, search_connections
from obfbroker.db.migrate import upgrade
from obfbroker.db.session import create_engine as create_async_engine
from obfbroker.db.session import create_session_factory
from obfbroker.settings import Settings
from tests.support.databases import TEST_KEY

ROWS = 100_000
PAGE = 25
# A search may read one window (OBFBROKER_DASHBOARD_SEARCH_WINDOW rows) of the account's 100 000
# rows: its statements must cost well under what one walk over all of them costs.
MAX_SHARE_OF_A_FULL_WALK = 0.25
STEP_GRANULARITY = 100


def _rows(account: str, count: int, start: datetime):
    for i in range(count):
        at = (start + timedelta(seconds=i)).strftime("%Y-%m-%d %H:%M:%S.%f")
        yield (f"conn_{account}_{i:06d}", account, f"{account}U{i:06d}", "za",
               f"user{i:06d}@{'example' if i % 2 else 'corp'}.com", f"User {i:06d} Example", "{}",
               "disconnected" if i % 10 == 0 else "connected", "cid", "", 1, at, at)


@pytest.fixture(scope="module")
def big_database(tmp_path_factory) -> Settings:
    """A migrated SQLite file with 100 000 connections in one account and 5 000 in another,
    written straight through sqlite3 (the ORM would take seconds)."""
    path = tmp_path_factory.mktemp("scale") / "big.db"
    settings = Settings(database_url=f"sqlite:///{path}", encryption_keys=TEST_KEY)
    upgrade(settings)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with sqlite3.connect(path) as db:
        db.executemany("INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?)",
                       [("acc_big", "big", "2026-01-01 00:00:00.000000"),
                        ("acc_other", "other", "2026-01-01 00:00:00.000000")])
        for account, count in (("acc_big", ROWS), ("acc_other", 5_000)):
            db.executemany(
                "INSERT INTO zoom_connections (id, account_id, zoom_user_id, zoom_account_id, email, "
                "display_name, metadata, state, client_id, scopes, token_generation, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _rows(account, count, start))
        db.execute("ANALYZE")
    return settings


def run_search(settings: Settings, **kwargs) -> tuple[SearchPage, list[tuple[str, tuple]]]:
    """The search, with the statements it sent to the database."""
    from sqlalchemy import event

    statements: list[tuple[str, tuple]] = []

    async def go():
        engine = create_async_engine(settings)
        event.listen(engine.sync_engine, "before_cursor_execute",
                     lambda conn, cursor, sql, params, context, many: statements.append((sql, params)))
        try:
            async with create_session_factory(engine)() as session:
                return await search_connections(session, Account(id="acc_big", name="big"), limit=PAGE,
                                                window=settings.dashboard_search_window, **kwargs)
        finally:
            await engine.dispose()

    return asyncio.run(go()), statements


def vm_steps(settings: Settings, statements: list[tuple[str, tuple]]) -> int:
    """SQLite VM steps (in units of STEP_GRANULARITY) to run these SELECTs to completion."""
    path = settings.database_url.split(":///", 1)[1]
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    with sqlite3.connect(path) as db:
        db.set_progress_handler(count, STEP_GRANULARITY)
        for sql, params in statements:
            if sql.lstrip().upper().startswith("SELECT"):
                db.execute(sql, params).fetchall()
    return steps


@pytest.fixture(scope="module")
def full_walk_steps(big_database: Settings) -> int:
    """What matching every row of the big account costs (the search's own filter, no window): the
    bound a search must stay far under."""
    return vm_steps(big_database, [(
        "SELECT * FROM zoom_connections WHERE account_id = ? AND (lower(email) LIKE ? ESCAPE '\\' "
        "OR lower(display_name) LIKE ? ESCAPE '\\' OR lower(display_name) LIKE ? ESCAPE '\\') "
        "ORDER BY created_at DESC, id DESC",
        ("acc_big", "nobody@nowhere%", "nobody@nowhere%", "% nobody@nowhere%"))])


@pytest.mark.parametrize("search", [
    {"text": None, "state": None},                 # first page (the API's list_page)
    {"text": None, "state": "disconnected"},       # filtered by state
    {"text": "user09", "state": None},             # email prefix, many matches
    {"text": "User 099", "state": "connected"},    # name prefix and state
    {"text": "example", "state": None},            # a word of the name
    {"text": "acc_bigU042424", "state": None},     # a whole Zoom user id
    {"text": "nobody@nowhere", "state": None},     # matches nothing: the worst case, a full window
])
def test_search_pages_read_a_bounded_window_at_100k_connections(big_database: Settings, full_walk_steps: int,
                                                                search) -> None:
    page, statements = run_search(big_database, cursor=None, **search)
    rows = page.rows
    assert all(row.account_id == "acc_big" for row in rows)
    assert [r.created_at for r in rows] == sorted((r.created_at for r in rows), reverse=True)
    if search["text"] == "nobody@nowhere":
        assert rows == [] and page.window_ended and page.next_cursor
    elif search["text"] == "acc_bigU042424":
        assert [r.zoom_user_id for r in rows] == ["acc_bigU042424"] and page.next_cursor is None
    else:
        assert len(rows) == PAGE and page.next_cursor and not page.window_ended
    costs = [vm_steps(big_database, statements)]
    cursor = page.next_cursor
    for _ in range(3):  # a few pages (or windows) in, by cursor
        if cursor:
            page, statements = run_search(big_database, cursor=cursor, **search)
            costs.append(vm_steps(big_database, statements))
            cursor = page.next_cursor
    print(f"\n{search}: {[c * STEP_GRANULARITY for c in costs]} VM steps per page; "
          f"a full walk is {full_walk_steps * STEP_GRANULARITY}")
    assert max(costs) <= full_walk_steps * MAX_SHARE_OF_A_FULL_WALK, (costs, full_walk_steps)


def test_a_search_that_matches_nothing_walks_every_row_once_window_by_window(big_database: Settings) -> None:
    cursor, windows, seen = None, 0, 0
    while True:
        page, _ = run_search(big_database, text="user000", state=None, cursor=cursor)
        windows += 1
        seen += len(page.rows)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    # user000000..user000999: 1 000 matches, 40 pages of 25 (the last window may add one more page)
    assert seen == 1_000
    assert windows <= ROWS // big_database.dashboard_search_window + 1_000 // PAGE + 1


def test_every_statement_a_search_runs_seeks_an_account_index_and_never_sorts(big_database: Settings) -> None:
    """SQLite's plan for each statement the dashboard sends: an index of the account's rows,
    no full scan of the table, no temporary B-tree for ORDER BY."""
    from sqlalchemy import event

    statements: list[tuple[str, tuple]] = []

    async def go():
        engine = create_async_engine(big_database)
        event.listen(engine.sync_engine, "before_cursor_execute",
                     lambda conn, cursor, sql, params, context, many: statements.append((sql, params)))
        try:
            async with create_session_factory(engine)() as session:
                account = Account(id="acc_big", name="big")
                for state in (None, "connected"):
                    window = big_database.dashboard_search_window
                    page = await search_connections(session, account, text="nobody", state=state,
                                                    limit=PAGE, cursor=None, window=window)
                    await search_connections(session, account, text="nobody", state=state, limit=PAGE,
                                             cursor=page.next_cursor, window=window)
                    await search_connections(session, account, text="acc_bigU000001", state=state,
                                             limit=PAGE, cursor=None, window=window)
        finally:
            await engine.dispose()

    asyncio.run(go())
    path = big_database.database_url.split(":///", 1)[1]
    with sqlite3.connect(path) as db:
        for sql, params in statements:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            plan = " | ".join(row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params))
            assert "ix_zoom_connections_account" in plan or "uq_zoom_connections" in plan \
                or "sqlite_autoindex_zoom_connections" in plan, (sql, plan)
            assert "TEMP B-TREE" not in plan, (sql, plan)
            assert not re.search(r"\bSCAN zoom_connections\b(?! USING)", plan), (sql, plan)
