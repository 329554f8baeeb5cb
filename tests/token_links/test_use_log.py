"""A link's calls are logged off the token path, in batches (token_links/use_log.py): written
soon without anyone reading, at once for a reader in the same process, on a clean stop, and
again after a failed write."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, insert, select

from obfbroker.accounts.models import Account
from obfbroker.db.migrate import upgrade
from obfbroker.db.session import create_engine as create_async_engine
from obfbroker.settings import Settings
from obfbroker.token_links import repository
from obfbroker.token_links.models import TokenLink, TokenLinkUse
from obfbroker.token_links.use_log import UseLog
from tests.support.databases import TEST_KEY
from tests.support.http import http_get
from tests.support.processes import free_port, spawn, stop, wait_until_ready
from tests.support.stack import Stack, make_settings
from tests.support.token_links import LinkScene, link_scene


def logged(database_url: str, link_id: str) -> int:
    engine = create_engine(Settings(database_url=database_url, encryption_keys=TEST_KEY).sync_database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(TokenLinkUse)
                                .where(TokenLinkUse.link_id == link_id)).scalar_one()
    finally:
        engine.dispose()


def test_calls_are_written_soon_without_a_reader(links: LinkScene):
    link = links.create(platform="recall", meeting_link=links.meeting.join_url)
    assert http_get(links.url(link, "zak")).status_code == 200
    deadline = time.monotonic() + 5
    while logged(links.stack.settings.database_url, link["id"]) == 0:
        assert time.monotonic() < deadline, "the call was never written"
        time.sleep(0.02)


@pytest.mark.parametrize("fresh_database_url", ["sqlite"], indirect=True)
def test_a_stopped_serve_writes_the_calls_it_queued(fresh_database_url: str, sim):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"OBFBROKER_DATABASE_URL": fresh_database_url, "OBFBROKER_ENCRYPTION_KEYS": TEST_KEY,
           "OBFBROKER_ZOOM_OAUTH_URL": sim.url, "OBFBROKER_ZOOM_API_URL": f"{sim.url}/v2",
           "OBFBROKER_PUBLIC_URL": url, "OBFBROKER_LOG_LEVEL": "WARNING", "OBFBROKER_SERVE_WORKERS": "1"}
    serve = spawn("serve", "--no-migrate", "--port", str(port), env=env)
    try:
        wait_until_ready(f"{url}/readyz", serve)
        links = link_scene(Stack(url=url, settings=make_settings(fresh_database_url, sim, public_url=url),
                                 sim=sim))
        link = links.create(platform="recall", meeting_link=links.meeting.join_url)
        statuses = [http_get(link["urls"]["zak"]).status_code for _ in range(3)]
        links.api.close()
    finally:
        stop(serve, signal.SIGTERM)  # right away: the batch may not have been written yet
    assert statuses == [200] * 3
    assert logged(fresh_database_url, link["id"]) == 3


def test_a_failed_write_is_kept_and_written_at_the_next_round(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'late.db'}", encryption_keys=TEST_KEY)

    async def scenario() -> int:
        engine = create_async_engine(settings)
        use_log = UseLog(engine, interval=3600)  # rounds only when asked
        try:
            row = repository.use_row("tl_x", "acc_x", at=datetime.now(UTC), token_type="zak",
                                     minted=["zak"], meeting_number=None, platform_bot_id=None,
                                     status="minted", code=None)
            use_log.add(row, add_uses=0, used_at=None)
            with pytest.raises(Exception, match="token_link_uses"):
                await use_log.flush()  # no such table yet
            assert use_log.waiting("tl_x", datetime(2000, 1, 1, tzinfo=UTC))[0] == 1, "kept"
            await asyncio.to_thread(upgrade, settings)
            async with engine.begin() as conn:  # the row's account and link (its foreign keys)
                await conn.execute(insert(Account), {"id": "acc_x", "name": "x",
                                                     "created_at": datetime.now(UTC)})
                await conn.execute(insert(TokenLink), {
                    "id": "tl_x", "account_id": "acc_x", "zoom_user_id": "u", "platform": "recall",
                    "token_types": ["zak"], "uses": 0, "metadata": {}, "secret_hash": "h",
                    "created_at": datetime.now(UTC), "updated_at": datetime.now(UTC)})
            await use_log.aclose()
            async with engine.connect() as conn:
                return (await conn.execute(select(func.count()).select_from(TokenLinkUse))).scalar_one()
        finally:
            await engine.dispose()

    assert asyncio.run(scenario()) == 1
