"""The questions asked of stored connections, one function each (the SQL; the rules are in
``connections.service``). Every function takes the caller's session and scopes by account
where the question is about one account's rows."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from obfbroker.connections.filters import ConnectionFilter
from obfbroker.connections.models import (
    CodeExchange,
    ConnectionMetadataEntry,
    ConnectionState,
    ReconnectIntent,
    ZoomConnection,
)
from obfbroker.db import repository as base
from obfbroker.db.base import new_id
from obfbroker.pagination import keyset_page

# Sorts after every character: ``prefix <= x < prefix + PREFIX_END`` is "x starts with prefix".
PREFIX_END = "\U0010ffff"


async def connection_by_zoom_user(session: AsyncSession, account_id: str, zoom_user_id: str, *,
                                  for_update: bool = False) -> ZoomConnection | None:
    """The account's connection of ``zoom_user_id`` (row-locked with ``for_update``)."""
    return await base.one(session, ZoomConnection, ZoomConnection.account_id == account_id,
                          ZoomConnection.zoom_user_id == zoom_user_id, for_update=for_update)


async def connection_by_id(session: AsyncSession, account_id: str,
                           connection_id: str) -> ZoomConnection | None:
    return await base.one(session, ZoomConnection, ZoomConnection.account_id == account_id,
                          ZoomConnection.id == connection_id)


async def has_connections(session: AsyncSession, account_id: str) -> bool:
    """Whether the account ever connected a Zoom user (disconnected rows count)."""
    return bool((await session.execute(select(exists().where(
        ZoomConnection.account_id == account_id)))).scalar())


def keepalive_due(now: datetime) -> ColumnElement[bool]:
    """Connected connections whose keep-alive refresh is due (ix_zoom_connections_state_keepalive)."""
    return and_(ZoomConnection.state == ConnectionState.CONNECTED, ZoomConnection.next_keepalive_at <= now)


def _email_prefix(query: Select, prefix: str, dialect: str) -> Select:
    """Rows whose ``email_lower`` starts with ``prefix``, as a range on the
    (account_id, email_lower) index. PostgreSQL reads that index (``text_pattern_ops``) for a
    constant ``LIKE 'p%'``, and for the pattern operators ``~>=~``/``~<~`` with any plan; SQLite
    reads the binary-collated index for the range, and its LIKE only confirms the match."""
    column = ZoomConnection.email_lower
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = query.where(column.like(escaped + "%", escape="\\"))
    above = prefix + PREFIX_END
    if dialect == "postgresql":
        return query.where(column.op("~>=~")(prefix), column.op("~<~")(above))
    return query.where(column >= prefix, column < above)


def _metadata_match(query: Select, account_id: str, key: str, value: str) -> tuple[Select, Any]:
    """Rows whose metadata has ``key`` = ``value``: a join on the metadata index rows, found by
    (account_id, key, value); (connection_id, key) is unique, so no row comes twice. Also the
    joined entry, whose (created_at, connection_id) are the row's, in its index's order."""
    entry = aliased(ConnectionMetadataEntry)
    return query.join(entry, entry.connection_id == ZoomConnection.id).where(
        entry.account_id == account_id, entry.key == key, entry.value == value), entry


@dataclass(frozen=True)
class _EntryKey:
    """A connection seen as its metadata entry: what the cursor of a metadata page names."""

    created_at: datetime
    connection_id: str


def filtered_connections(account_id: str, where: ConnectionFilter, *, dialect: str) -> Select:
    """The account's connections that match ``where`` (unordered; ``connections_page`` pages it)."""
    return _filtered(account_id, where, dialect=dialect)[0]


def _filtered(account_id: str, where: ConnectionFilter, *, dialect: str) -> tuple[Select, Any]:
    """The query, and the metadata entry its first metadata filter joins (None without one)."""
    first_entry = None
    query = select(ZoomConnection).where(ZoomConnection.account_id == account_id)
    if where.state is not None:
        query = query.where(ZoomConnection.state == where.state)
    if where.email_prefix is not None:
        query = _email_prefix(query, where.email_prefix, dialect)
    if where.zoom_account_id is not None:
        query = query.where(ZoomConnection.zoom_account_id == where.zoom_account_id)
    for key, value in where.metadata:
        query, entry = _metadata_match(query, account_id, key, value)
        first_entry = first_entry if first_entry is not None else entry
    if where.created_since is not None:
        query = query.where(ZoomConnection.created_at >= where.created_since)
    if where.created_until is not None:
        query = query.where(ZoomConnection.created_at < where.created_until)
    return query, first_entry


async def connections_page(session: AsyncSession, account_id: str, where: ConnectionFilter, *,
                           limit: int, cursor: str | None) -> tuple[list[ZoomConnection], str | None]:
    """One page of the account's connections matching ``where``, newest first (keyset on
    created_at, id)."""
    query, entry = _filtered(account_id, where, dialect=session.bind.dialect.name)
    if entry is None:
        return await keyset_page(session, query, time_column=ZoomConnection.created_at,
                                 id_column=ZoomConnection.id, cursor=cursor, limit=limit)
    # Filtered by metadata: order by the entry's copy of (created_at, id), so the page is a walk
    # of the metadata index in list order that stops after `limit` rows, however many match.
    return await keyset_page(session, query, time_column=entry.created_at, id_column=entry.connection_id,
                             cursor=cursor, limit=limit,
                             key=lambda row: _EntryKey(row.created_at, row.id))



async def zoom_user_ids(session: AsyncSession, connection_ids: Collection[str]) -> dict[str, str]:
    """The Zoom user id of each connection that still exists, by connection id (one query)."""
    if not connection_ids:
        return {}
    rows = await session.execute(select(ZoomConnection.id, ZoomConnection.zoom_user_id)
                                 .where(ZoomConnection.id.in_(list(connection_ids))))
    return {connection_id: zoom_user_id for connection_id, zoom_user_id in rows.all()}


# -- erase ------------------------------------------------------------------------------------------
async def delete_connection_records(session: AsyncSession, connection: ZoomConnection) -> None:
    """Delete what is kept beside a connection that is being erased: its code receipts, its
    user's reconnect intents and its metadata index rows."""
    for statement in (
        delete(CodeExchange).where(CodeExchange.connection_id == connection.id),
        delete(ReconnectIntent).where(ReconnectIntent.account_id == connection.account_id,
                                      ReconnectIntent.zoom_user_id == connection.zoom_user_id),
        delete(ConnectionMetadataEntry).where(ConnectionMetadataEntry.connection_id == connection.id),
    ):
        await session.execute(statement.execution_options(synchronize_session=False))


# -- health: failures and recoveries, each a conditional update of the row -------------------------
async def set_last_error(session: AsyncSession, connection_id: str, values: dict[str, Any], *,
                         failing_since: datetime | None) -> None:
    """Write ``last_error`` columns; with ``failing_since``, start a run of failures unless one is
    going."""
    await session.execute(update(ZoomConnection).where(ZoomConnection.id == connection_id)
                          .values(**values).execution_options(synchronize_session=False))
    if failing_since is not None:
        await session.execute(update(ZoomConnection).where(
            ZoomConnection.id == connection_id, ZoomConnection.failing_since.is_(None),
        ).values(failing_since=literal(failing_since, ZoomConnection.failing_since.type))
         .execution_options(synchronize_session=False))


async def failing_since(session: AsyncSession, connection_id: str) -> datetime | None:
    """When the connection's current run of failures started (None: no run, or no row)."""
    return (await session.execute(select(ZoomConnection.failing_since).where(
        ZoomConnection.id == connection_id))).scalar_one_or_none()


async def end_failing_run(session: AsyncSession, connection_id: str, since: datetime) -> bool:
    """End the run of failures that started at ``since``; False when another caller did."""
    return (await session.execute(update(ZoomConnection).where(
        ZoomConnection.id == connection_id, ZoomConnection.failing_since == since,
    ).values(failing_since=None).execution_options(synchronize_session=False))).rowcount == 1


# -- keep-alive, metadata -------------------------------------------------------------------------
async def reschedule_keepalive(session: AsyncSession, connection_id: str, when: datetime) -> None:
    """The next keep-alive of a connected row at ``when``."""
    await session.execute(update(ZoomConnection).where(
        ZoomConnection.id == connection_id, ZoomConnection.state == ConnectionState.CONNECTED,
    ).values(next_keepalive_at=when))


async def store_metadata(session: AsyncSession, connection: ZoomConnection, metadata: dict[str, Any],
                         entries: dict[str, str]) -> None:
    """Give ``connection`` this metadata and make ``entries`` (key -> indexed text) its index
    rows, in the caller's transaction."""
    connection.metadata_ = metadata
    await session.flush()
    await session.execute(delete(ConnectionMetadataEntry)
                          .where(ConnectionMetadataEntry.connection_id == connection.id))
    rows = [{"id": new_id("cmeta"), "connection_id": connection.id, "account_id": connection.account_id,
             "key": key, "value": value, "created_at": connection.created_at}
            for key, value in entries.items()]
    if rows:
        await session.execute(insert(ConnectionMetadataEntry), rows)


# -- reconnect intents ---------------------------------------------------------------------------
async def delete_expired_intents(session: AsyncSession, account_id: str, now: datetime) -> None:
    await session.execute(delete(ReconnectIntent).where(ReconnectIntent.account_id == account_id,
                                                        ReconnectIntent.expires_at <= now))


async def put_intent(session: AsyncSession, *, intent_id: str, account_id: str, state_hash: str,
                     values: dict[str, Any]) -> None:
    """Store a reconnect intent, replacing the account's intent of the same state."""
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    await session.execute(
        dialect.insert(ReconnectIntent)
        .values(id=intent_id, account_id=account_id, state_hash=state_hash, **values)
        .on_conflict_do_update(index_elements=["account_id", "state_hash"], set_=values))


async def intent_by_state(session: AsyncSession, account_id: str, state_hash: str,
                          now: datetime) -> ReconnectIntent | None:
    """The account's unexpired reconnect intent of this state."""
    return (await session.execute(select(ReconnectIntent).where(
        ReconnectIntent.account_id == account_id, ReconnectIntent.state_hash == state_hash,
        ReconnectIntent.expires_at > now))).scalar_one_or_none()


async def delete_intent(session: AsyncSession, intent_id: str) -> None:
    await session.execute(delete(ReconnectIntent).where(ReconnectIntent.id == intent_id))


# -- the token broker's row lock -------------------------------------------------------------------
async def lock_connection(session: AsyncSession, connection_id: str, *,
                          lock_wait_seconds: int | None) -> ZoomConnection | None:
    """The row, locked for the caller's transaction (``FOR UPDATE``; on PostgreSQL waiting at most
    ``lock_wait_seconds``; SQLite's lock engine took the database's write lock at BEGIN)."""
    if lock_wait_seconds is not None:
        await session.execute(text(f"SET LOCAL lock_timeout = '{int(lock_wait_seconds)}s'"))
    return (await session.execute(
        select(ZoomConnection).where(ZoomConnection.id == connection_id).with_for_update()
    )).scalar_one_or_none()


async def still_at_generation(session: AsyncSession, connection_id: str, generation: int) -> bool:
    """Whether the row still holds the tokens of ``generation`` (the caller holds its lock)."""
    return (await session.execute(
        update(ZoomConnection).where(ZoomConnection.id == connection_id,
                                     ZoomConnection.token_generation == generation)
        .values(token_generation=generation).execution_options(synchronize_session=False)
    )).rowcount == 1


# -- gauges ---------------------------------------------------------------------------------------
async def count_by_state(session: AsyncSession) -> dict[str, int]:
    """Connections of every account, by state."""
    return {state: count for state, count in await session.execute(
        select(ZoomConnection.state, func.count()).group_by(ZoomConnection.state))}


async def keepalive_backlog(session: AsyncSession, now: datetime) -> tuple[int, datetime | None]:
    """How many connections are due a keep-alive refresh at ``now``, and the oldest due time."""
    count, oldest = (await session.execute(select(func.count(), func.min(ZoomConnection.next_keepalive_at))
                                           .where(keepalive_due(now)))).one()
    return count, oldest
