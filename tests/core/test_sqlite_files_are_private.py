"""The SQLite database holds end-users' emails, names and metadata: it and the files SQLite keeps
beside it (-wal, -shm) are readable by their owner only, like the key file, whoever made them."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

from sqlalchemy import text

from obfbroker.db.migrate import upgrade
from obfbroker.db.session import create_engine
from obfbroker.settings import Settings
from tests.support.databases import TEST_KEY


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def write_through_engine(settings: Settings) -> None:
    async def work() -> None:
        engine = create_engine(settings)
        try:
            async with engine.begin() as conn:
                await conn.execute(text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
                await conn.execute(text("INSERT INTO probe VALUES (1)"))
            path = settings.sqlite_path
            for suffix in ("-wal", "-shm"):  # present while a connection is open
                assert mode(path.with_name(path.name + suffix)) == 0o600, suffix
        finally:
            await engine.dispose()

    asyncio.run(work())


def test_a_new_database_and_its_wal_and_shm_are_owner_only(tmp_path):
    previous = os.umask(0o022)  # the usual umask, which would give 0644
    try:
        settings = Settings(database_url=f"sqlite:///{tmp_path / 'obfbroker.db'}", encryption_keys=TEST_KEY)
        upgrade(settings)
        assert mode(tmp_path / "obfbroker.db") == 0o600
        write_through_engine(settings)
    finally:
        os.umask(previous)


def test_an_existing_readable_database_is_made_owner_only(tmp_path):
    path = tmp_path / "old.db"
    settings = Settings(database_url=f"sqlite:///{path}", encryption_keys=TEST_KEY)
    upgrade(settings)
    for suffix in ("", "-wal", "-shm"):
        file = path.with_name(path.name + suffix)
        file.touch()
        file.chmod(0o644)
    write_through_engine(settings)
    assert mode(path) == 0o600


def test_no_folder_is_created_for_a_missing_database(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'absent' / 'x.db'}", encryption_keys=TEST_KEY)
    create_engine(settings)
    assert not (tmp_path / "absent").exists()
