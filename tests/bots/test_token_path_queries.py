"""The hosted token path reads the database once per mint when the connection's access token is
fresh (the bot and its connection's token columns in one query), and writes nothing; only an
expired token takes the locked refresh path. Statements are counted, never timed."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from obfbroker.app import create_app
from tests.support.bot_scenes import Scene, expire_stored_access_token, fetch_token, launch_spec, new_meeting
from tests.support.customers import make_customer
from tests.support.servers import serve_app
from tests.support.stack import Stack, make_settings


@pytest.mark.parametrize("fresh_database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_mint_with_a_fresh_token_is_one_read_and_no_write(fresh_database_url: str, sim):
    settings = make_settings(fresh_database_url, sim)
    app = create_app(settings)
    with serve_app(app) as url:
        stack = Stack(url=url, settings=settings, sim=sim)
        customer = make_customer(stack)
        alice = sim.create_user("Alice")
        assert customer.connect(alice["id"]).status_code == 200
        bot = Scene(customer, alice, new_meeting(stack, alice["id"])).hosted_bot()
        spec = launch_spec(stack, bot["bot_id"])
        sent: list[str] = []

        def count(_conn, _cursor, statement, *_args) -> None:
            sent.append(statement.split(None, 1)[0].upper())

        runtime = app.state.runtime  # its engine, and on SQLite the refresh lock's own engine
        engines = {runtime.engine.sync_engine, runtime.lock_engine.sync_engine}
        for engine in engines:
            event.listen(engine, "before_cursor_execute", count)
        try:
            assert fetch_token(stack, spec).status_code == 200
            fresh = list(sent)
            sent.clear()
            expire_stored_access_token(stack, customer.account_id, alice["id"])
            assert fetch_token(stack, spec).status_code == 200
            refreshed = list(sent)
        finally:
            for engine in engines:
                event.remove(engine, "before_cursor_execute", count)
    assert fresh == ["SELECT"], fresh
    assert "UPDATE" in refreshed, refreshed  # the rotated pair is stored, under the lock
