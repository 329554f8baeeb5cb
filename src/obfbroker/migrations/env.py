"""Alembic environment: synchronous engine on the configured URL, every model's metadata."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from obfbroker.migrations.models import Base

config = context.config


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata,
                          render_as_batch=connection.dialect.name == "sqlite",
                          compare_type=True)
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Several processes may start at once: one migrates, the others wait.
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(716151)")
            context.run_migrations()
    engine.dispose()


run_migrations()
