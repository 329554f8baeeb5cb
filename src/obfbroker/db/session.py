"""Engine and session factory for SQLite (aiosqlite) and PostgreSQL (psycopg async)."""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from obfbroker.settings import Settings

log = logging.getLogger(__name__)
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers proceed while one process writes; busy_timeout makes writers queue
    # instead of failing when several processes share the file.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted and overwritten content is zeroed, so an erased connection leaves no trace in
    # the file (flows/erase.py).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


# A PostgreSQL host that drops packets fails a connect in seconds, not the OS's TCP minutes.
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10


# The database file and the files SQLite keeps beside it (it gives them the database's mode).
SQLITE_FILE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def protect_sqlite_files(settings: Settings) -> None:
    """Keep the SQLite database owner-only (0600): it holds emails, names and metadata. A missing
    file is created so, if its folder exists (no folder is made here: only `obfbroker dev` creates
    ./var); one that others can read, and its -wal, -shm and -journal, lose that access."""
    path = settings.sqlite_path
    if path is None:
        return
    if not path.exists() and path.parent.is_dir():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for suffix in SQLITE_FILE_SUFFIXES:
        file = path.with_name(path.name + suffix)
        try:
            mode = stat.S_IMODE(file.stat().st_mode)
            if mode & 0o077:
                os.chmod(file, mode & 0o700)
        except FileNotFoundError:
            continue
        except OSError as err:
            log.warning("cannot make the SQLite file owner-only", extra={"path": str(file),
                                                                         "error": err.strerror})


def create_engine(settings: Settings) -> AsyncEngine:
    url = settings.async_database_url
    if settings.is_sqlite:
        protect_sqlite_files(settings)
        # No folder is made here: only `obfbroker dev` creates ./var (startup.py checks the path).
        # The same pool sizes as PostgreSQL: with SQLAlchemy's default (5 + 10) a busy process
        # opened and closed an overflow connection per request (a thread and the pragmas each).
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                                     pool_size=settings.database_pool_size,
                                     max_overflow=settings.database_max_overflow)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=settings.database_pool_size,
                               max_overflow=settings.database_max_overflow, pool_pre_ping=True,
                               connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS})


def _autocommit_driver(dbapi_connection, _record) -> None:
    # Hand transaction control to SQLAlchemy so the "begin" hook below decides how it starts.
    dbapi_connection.isolation_level = None


def _begin_immediate(connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_lock_engine(settings: Settings, engine: AsyncEngine) -> AsyncEngine:
    """The engine for row-locking work (token refresh).

    PostgreSQL locks rows with ``SELECT ... FOR UPDATE`` on the ordinary engine. SQLite has no
    row locks, so its lock engine starts every transaction with ``BEGIN IMMEDIATE``: the write
    lock is taken before the first read, which serialises refreshes across processes.
    """
    if not settings.is_sqlite:
        return engine
    lock_engine = create_async_engine(settings.async_database_url,
                                      connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    event.listen(lock_engine.sync_engine, "connect", _sqlite_pragmas)
    event.listen(lock_engine.sync_engine, "connect", _autocommit_driver)
    event.listen(lock_engine.sync_engine, "begin", _begin_immediate)
    return lock_engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A unit of work: commits when the block succeeds, rolls back when it raises."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def reachable(engine: AsyncEngine) -> bool:
    """Whether the database answers a trivial query (readiness)."""
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


# How long the log truncation waits for readers; it is tidying, so it never holds a request long.
CHECKPOINT_WAIT_MS = 2000


async def truncate_sqlite_log(engine: AsyncEngine) -> None:
    """Copy SQLite's write-ahead log into the database file and empty it, waiting briefly for
    readers (after an erase, so the files hold nothing of the erased user)."""
    async with engine.connect() as connection:
        await connection.exec_driver_sql(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
        try:
            busy, _, _ = (await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).one()
        finally:
            await connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    if busy:
        log.info("SQLite log not truncated (readers busy); the next checkpoint empties it")
