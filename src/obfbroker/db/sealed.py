"""The statements key rotation runs over any sealed column (keys.py decides what to re-seal)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession


async def sealed_batch(session: AsyncSession, table: Table, column: str, *, after: str,
                       limit: int) -> Sequence[Row]:
    """Up to ``limit`` (id, sealed value) of ``table`` whose ``column`` holds a value, ids after
    ``after``, in id order."""
    return (await session.execute(
        select(table.c.id, table.c[column]).where(table.c[column].is_not(None), table.c.id > after)
        .order_by(table.c.id).limit(limit))).all()


async def replace_sealed(session: AsyncSession, table: Table, column: str, *, row_id: str, old: str,
                         new: str) -> int:
    """Write ``new`` where the row still holds ``old`` (a concurrent writer wins); rows changed."""
    result = await session.execute(update(table).where(table.c.id == row_id, table.c[column] == old)
                                   .values({column: new}))
    return result.rowcount
