"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL: a
model change without its migration (or the reverse) fails here, not on a customer's upgrade."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from obfbroker.db.base import Base
from obfbroker.migrations import models  # noqa: F401  (registers every table on Base.metadata)
from obfbroker.settings import Settings
from tests.support.databases import TEST_KEY


def test_a_migrated_database_has_no_difference_from_the_models(fresh_database_url: str):
    settings = Settings(database_url=fresh_database_url, encryption_keys=TEST_KEY)
    engine = create_engine(settings.sync_database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
