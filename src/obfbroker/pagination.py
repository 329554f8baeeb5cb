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

from sqlalchemy import and_, or_
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
