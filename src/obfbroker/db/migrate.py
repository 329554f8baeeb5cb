"""Run Alembic migrations programmatically (``obfbroker db upgrade`` and ``serve`` at start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from obfbroker.settings import Settings

# Above the domains (its env.py and models.py import every domain's models), so not under db/.
MIGRATIONS = Path(__file__).parents[1] / "migrations"


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", settings.sync_database_url.replace("%", "%%"))
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Apply migrations; a new SQLite file is created (mode 0600), its folder never is."""
    from obfbroker.db.session import protect_sqlite_files

    protect_sqlite_files(settings)
    command.upgrade(alembic_config(settings), revision)
