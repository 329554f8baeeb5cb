"""Opaque keyset cursors: a page ends at (timestamp, id); the next page starts strictly after it.

Lists are newest first, ordered by ``(timestamp desc, id desc)``; the id breaks ties so no row
is skipped or repeated when several share a timestamp.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from obfbroker.errors import BadRequest


def encode_cursor(created_at: datetime, row_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (timestamp, id) a cursor names; ``invalid_cursor`` if it isn't one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, row_id = json.loads(raw)
        when = datetime.fromisoformat(created)
        if when.tzinfo is None or not isinstance(row_id, str):
            raise ValueError
        return when, row_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("cursor is not valid; pass the next_cursor of a previous page",
                         code="invalid_cursor") from None


def older_than(created_column: Any, id_column: Any, cursor: str) -> ColumnElement[bool]:
    """The WHERE clause for the rows after ``cursor`` in newest-first order."""
    created, row_id = decode_cursor(cursor)
    return or_(created_column < created, and_(created_column == created, id_column < row_id))


async def keyset_page(session: AsyncSession, query: Select, *, time_column: Any, id_column: Any,
                      cursor: str | None, limit: int, scalars: bool = True,
                      key: Any = None) -> tuple[list[Any], str | None]:
    """One page of ``query``, newest first by ``(time_column, id_column)``, after ``cursor``; and
    the next page's cursor (None on the last page). ``scalars=False`` keeps whole result rows;
    ``key(row)`` gives the object whose time and id the cursor names (default: the row)."""
    if cursor:
        query = query.where(older_than(time_column, id_column, cursor))
    query = query.order_by(time_column.desc(), id_column.desc()).limit(limit + 1)
    result = await session.execute(query)
    rows = list(result.scalars() if scalars else result.all())
    if len(rows) <= limit:
        return rows, None
    last = (key or (lambda row: row))(rows[limit - 1])
    return rows[:limit], encode_cursor(getattr(last, time_column.key), getattr(last, id_column.key))
