"""Claiming due rows for a worker: the one way background loops share work between processes.

``claim_due`` selects up to ``limit`` rows that are due, in a fixed order, and marks them taken
(a lease) in the same transaction, so another worker skips them until the lease ends. On
PostgreSQL the select is ``FOR UPDATE SKIP LOCKED``: workers claiming at once take different
rows instead of queueing. SQLite renders no locking clause; there the caller's session must come
from ``runtime.lock_sessions``, whose ``BEGIN IMMEDIATE`` lets one claim run at a time.

Who may claim, and when a lease has ended, is the caller's ``due`` condition: a lease is a
column the condition reads (a time the row is next due, or a lease expiry).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.db.base import Base

Row = TypeVar("Row", bound=Base)


async def claim_due(session: AsyncSession, model: type[Row], *, due: ColumnElement[bool],
                    order_by: ColumnElement, limit: int, lease: Mapping[str, object]) -> list[Row]:
    """Lease up to ``limit`` rows of ``model`` matching ``due``, first by ``order_by``.

    ``lease`` holds the column values that mark a row taken (the lease's end, and its owner
    where there is one); the returned rows already carry them. The caller commits.
    """
    rows = list((await session.execute(
        select(model).where(due).order_by(order_by).limit(limit).with_for_update(skip_locked=True)
    )).scalars())
    if rows:
        await session.execute(
            update(model).where(model.id.in_([row.id for row in rows])).values(dict(lease))
            .execution_options(synchronize_session="evaluate"))
    return rows
