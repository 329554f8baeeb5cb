"""compose.yaml starts every serve and worker with migrations on: processes starting together
on one empty PostgreSQL must migrate it once, the others waiting (an advisory lock) and then
finding it up to date."""

from __future__ import annotations

import psycopg
from alembic.script import ScriptDirectory

from obfbroker.db.migrate import alembic_config
from obfbroker.settings import Settings
from tests.support.databases import TEST_KEY, new_postgres_database
from tests.support.processes import spawn


def test_two_processes_migrating_one_empty_postgres_at_once_both_succeed():
    with new_postgres_database() as url:
        env = {"OBFBROKER_DATABASE_URL": url, "OBFBROKER_ENCRYPTION_KEYS": TEST_KEY}
        processes = [spawn("db", "upgrade", env=env) for _ in range(2)]
        for process in processes:
            process.wait(timeout=90)
            assert process.returncode == 0, process.stderr.read().decode()[-3000:]
        head = ScriptDirectory.from_config(alembic_config(Settings(database_url=url))).get_current_head()
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
            assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]
