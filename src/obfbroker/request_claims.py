"""Request claims: of the concurrent requests for one key, one does the work, the others wait.

A claim is a row under a unique constraint on its key, inserted in a short transaction of its
own before the work starts, so the database decides between requests in any number of
processes. The owner records its outcome on the row in the same transaction as what the work
made (``settle``), so the two commit together, or deletes the row when the work fails
(``release``), so nothing of a failure stays stored and a retry runs afresh. Every other request
polls until the row holds an outcome and uses it, or gives up at its deadline; a row still
without an outcome after ``ABANDONED_AFTER`` belongs to a request that died mid-way and is
taken over. Each claim first deletes the expired rows of its key's scope.

The users, ``idempotency`` (``Idempotency-Key``) and ``connections.receipts`` (authorization
codes), each keep their own table, key, keeping time, outcome and answers; their docstrings
say why those differ. (Workers leasing due rows is another thing: ``db.claims``.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from obfbroker.db import repository as rows
from obfbroker.db.base import Base
from obfbroker.db.session import transaction
from obfbroker.errors import ObfError

# A row without an outcome this old belongs to a request that died mid-way: take it over.
ABANDONED_AFTER = timedelta(seconds=60)
POLL_SECONDS = 0.05

Row = TypeVar("Row", bound=Base)


def _accept(row: Any) -> None:
    """Any earlier row of the key is this request's to wait for and use."""


@dataclass(frozen=True)
class Key(Generic[Row]):
    """One key, as its user describes it. The model has ``id`` and ``created_at`` columns."""

    model: type[Row]
    # The key's row: at most one, by the unique constraint.
    match: ColumnElement[bool]
    # The rows of the key's scope (e.g. one account) past their keeping time at a given time.
    expired: Callable[[datetime], ColumnElement[bool]]
    # A new row that claims the key for this request, made at a given time.
    new_row: Callable[[datetime], Row]
    # Whether a row holds its owner's outcome yet.
    settled: Callable[[Row], bool]
    # What a waiter raises when its deadline passes while the owner is still at work.
    still_running: Callable[[], ObfError]
    clock: Callable[[], datetime]
    # Sees every earlier row of the key before it is waited for or used; raises to refuse it.
    vet: Callable[[Row], None] = _accept


@dataclass(frozen=True)
class Claimed(Generic[Row]):
    row: Row
    # True: this request inserted ``row`` and must settle or release it. False: ``row`` holds
    # the outcome of the request that did.
    owned: bool


async def _take(session: AsyncSession, key: Key[Row], now: datetime) -> Claimed[Row]:
    await rows.delete_where(session, key.model, key.expired(now))
    row = await rows.one(session, key.model, key.match)
    if row is not None and not key.settled(row) and row.created_at < now - ABANDONED_AFTER:
        await session.delete(row)
        await session.flush()
        row = None
    if row is not None:
        return Claimed(row, owned=False)
    row = key.new_row(now)
    session.add(row)
    return Claimed(row, owned=True)


async def _attempt(sessions: async_sessionmaker[AsyncSession], key: Key[Row]) -> Claimed[Row] | None:
    """One try in a transaction of its own; None when a concurrent request inserted the key's
    row between our read and our insert."""
    try:
        async with transaction(sessions) as session:
            return await _take(session, key, key.clock())
    except IntegrityError:
        return None


async def claim(sessions: async_sessionmaker[AsyncSession], key: Key[Row], *,
                wait_seconds: float, request_session: AsyncSession | None = None) -> Claimed[Row]:
    """Own ``key`` for this request, or the key's row once its owner settled it (waiting up to
    ``wait_seconds`` for an owner still at work). ``request_session``, which has only read so
    far (authentication, the app), is committed first: it gives its pooled connection back,
    so requests waiting here hold none (each try takes one for a moment), and many retries of
    one key can't drain the pool. Its objects stay loaded; its next query begins anew."""
    if request_session is not None and request_session.in_transaction():
        await request_session.commit()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while True:
        found = await _attempt(sessions, key)
        if found is not None and found.owned:
            return found
        if found is not None:
            key.vet(found.row)
            if key.settled(found.row):
                return found
        if loop.time() > deadline:
            raise key.still_running()
        await asyncio.sleep(POLL_SECONDS)


async def settle(session: AsyncSession, model: type[Base], row_id: str, outcome: dict[str, Any]) -> None:
    """Write the owner's outcome onto its row in the request's own transaction, so it commits
    with what the request made."""
    await rows.update_by_id(session, model, row_id, outcome)


async def release(sessions: async_sessionmaker[AsyncSession], model: type[Base], row_id: str) -> None:
    """Delete the row of a request that failed, in a transaction of its own."""
    async with transaction(sessions) as session:
        await rows.delete_by_id(session, model, row_id)
