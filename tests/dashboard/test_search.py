"""What the connections search matches, on every database backend."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from obfbroker.accounts.models import Account
from obfbroker.connections.models import ZoomConnection
from obfbroker.dashboard import repository
from obfbroker.db.base import new_id
from obfbroker.db.session import create_engine, create_session_factory, transaction
from obfbroker.errors import BadRequest
from obfbroker.settings import Settings
from tests.support.databases import TEST_KEY

PEOPLE = [  # (zoom user id, email, display name, state)
    ("KdYKjnimT4KPd8FFgQt9FQ", "alice@example.com", "Alice Example", "connected"),
    ("hQ2pZr7vS0eWn4LtXy8uJb", "Bob.Builder@Corp.example", "Bob van Builder", "disconnected"),
    ("mT5cVb9nR3kQw1ZxLp6sDa", "carol_x@example.com", "Carol 100% Real", "connected"),
    ("zz9", "carolxy@example.com", "Caroline", "connected"),
]


def search(settings: Settings, account_id: str, text: str | None, state: str | None = None,
           cursor: str | None = None, limit: int = 10) -> repository.SearchPage:
    async def go():
        engine = create_engine(settings)
        try:
            async with create_session_factory(engine)() as session:
                return await repository.search_connections(session, Account(id=account_id, name="x"),
                                                        text=text, state=state, limit=limit, cursor=cursor,
                                                        window=settings.dashboard_search_window)
        finally:
            await engine.dispose()

    return asyncio.run(go())


@pytest.fixture
def people(database_url: str) -> tuple[Settings, str]:
    settings = Settings(database_url=database_url, encryption_keys=TEST_KEY)
    account_id, other_id = new_id("acc"), new_id("acc")

    async def go():
        engine = create_engine(settings)
        try:
            async with transaction(create_session_factory(engine)) as session:
                start = datetime.now(UTC)
                for owner in (account_id, other_id):
                    session.add(Account(id=owner, name="search", created_at=start))
                await session.flush()
                for i, (zoom_id, email, name, state) in enumerate(PEOPLE):
                    for owner in (account_id, other_id):
                        session.add(ZoomConnection(
                            id=new_id("conn"), account_id=owner, zoom_user_id=zoom_id, email=email,
                            display_name=name, state=state, metadata_={}, token_generation=0,
                            created_at=start + timedelta(seconds=i), updated_at=start))
        finally:
            await engine.dispose()

    asyncio.run(go())
    return settings, account_id


def names(page: repository.SearchPage) -> list[str]:
    return [row.display_name for row in page.rows]


def test_search_by_email_name_word_and_whole_id(people) -> None:
    settings, account_id = people
    assert names(search(settings, account_id, None)) == ["Caroline", "Carol 100% Real", "Bob van Builder",
                                                         "Alice Example"]
    assert names(search(settings, account_id, "ALICE@")) == ["Alice Example"]      # email, any case
    assert names(search(settings, account_id, "bob.b")) == ["Bob van Builder"]
    assert names(search(settings, account_id, "builder")) == ["Bob van Builder"]   # a word of the name
    assert names(search(settings, account_id, "carol")) == ["Caroline", "Carol 100% Real"]
    assert names(search(settings, account_id, "carol", state="disconnected")) == []
    assert names(search(settings, account_id, "hQ2pZr7vS0eWn4LtXy8uJb")) == ["Bob van Builder"]
    assert names(search(settings, account_id, "hq2pzr7vs0ewn4ltxy8ujb")) == []     # ids are exact
    assert names(search(settings, account_id, "hQ2pZr")) == []                     # and whole
    # LIKE wildcards are text: "_" and "%" match only themselves.
    assert names(search(settings, account_id, "carol_")) == ["Carol 100% Real"]
    assert names(search(settings, account_id, "100%")) == ["Carol 100% Real"]
    assert names(search(settings, account_id, "%")) == []
    with pytest.raises(BadRequest, match="at most 200"):
        search(settings, account_id, "x" * 201)


def test_search_pages_and_windows_neither_skip_nor_repeat(people) -> None:
    settings, account_id = people
    settings = Settings(database_url=settings.database_url, encryption_keys=TEST_KEY,
                        dashboard_search_window=2)  # two rows per request
    seen, cursor, windows = [], None, 0
    while True:
        page = search(settings, account_id, "carol", cursor=cursor, limit=1)
        seen += names(page)
        windows += page.window_ended
        cursor = page.next_cursor
        if cursor is None:
            break
    # Both Carols, newest first, each once, though the walk stopped at a window in between.
    assert seen == ["Caroline", "Carol 100% Real"]
    assert windows >= 1
