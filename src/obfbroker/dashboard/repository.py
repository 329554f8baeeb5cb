"""The dashboard's questions of its own (its repository): searching an account's connections.

Listing without a search goes through ``connections.service.list_page``, the API's code path.
A search keeps the same order and cursors (newest first, keyset on ``(created_at, id)``) and
stays cheap however many connections an account has:

- a whole Zoom user id is looked up first through the unique ``(account_id, zoom_user_id)``
  index: one row, no walk;
- otherwise email (case-insensitive prefix) and display name (prefix of the name or of any of
  its words) are matched. No index covers display names (``email_lower``'s serves the API's
  email-only filter), so the search walks the account's rows newest first through
  ``ix_zoom_connections_account_created`` (``..._account_state_created`` with a state filter),
  at most ``window`` rows per request (``OBFBROKER_DASHBOARD_SEARCH_WINDOW``): the window's end
  is found by an index-only OFFSET, then only the rows inside it are read. If a window ends
  before a page is full, the page says so and its cursor continues the search from where the
  window ended.

So one request reads at most ``window`` rows of one account, never sorts, and never
touches other accounts' rows. tests/dashboard/test_search_scale.py times it on an account with
100 000 connections.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.accounts.models import Account
from obfbroker.connections import service as connections
from obfbroker.connections.filters import parse_filter
from obfbroker.connections.models import ConnectionState, ZoomConnection
from obfbroker.errors import BadRequest
from obfbroker.pagination import decode_cursor, encode_cursor, older_than

MAX_QUERY_LENGTH = 200


@dataclass
class SearchPage:
    rows: list[ZoomConnection]
    next_cursor: str | None
    # True when the walk stopped at the window's end with older rows left to search.
    window_ended: bool = False


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_filter(text: str):
    """Rows whose email or display name (or a word of it) starts with ``text``, any case."""
    pattern = _escape_like(text.lower())
    email = func.lower(ZoomConnection.email)
    name = func.lower(ZoomConnection.display_name)
    return or_(email.like(pattern + "%", escape="\\"), name.like(pattern + "%", escape="\\"),
               name.like("% " + pattern + "%", escape="\\"))


async def search_connections(session: AsyncSession, account: Account, *, text: str | None,
                             state: str | None, limit: int, cursor: str | None, window: int) -> SearchPage:
    """One page of the account's connections, newest first, optionally searched and filtered;
    a search reads at most ``window`` of the account's rows."""
    text = (text or "").strip()
    if not text:
        where = parse_filter((), state=state, email=None, zoom_account_id=None, created_after=None,
                             created_before=None)
        rows, next_cursor = await connections.list_page(session, account, limit=limit, cursor=cursor,
                                                        where=where)
        return SearchPage(rows, next_cursor)
    if len(text) > MAX_QUERY_LENGTH:
        raise BadRequest(f"search must be at most {MAX_QUERY_LENGTH} characters", code="invalid_search")
    scope = [ZoomConnection.account_id == account.id]
    if state is not None:
        if state not in {s.value for s in ConnectionState}:
            raise BadRequest("state must be connected or disconnected", code="invalid_state_filter")
        scope.append(ZoomConnection.state == state)
    if cursor is None:
        exact = (await session.execute(
            select(ZoomConnection).where(*scope, ZoomConnection.zoom_user_id == text)
        )).scalar_one_or_none()
        if exact is not None:
            return SearchPage([exact], None)
    if cursor:
        # older_than is an OR; the extra bound on created_at lets the index seek to the cursor.
        scope += [older_than(ZoomConnection.created_at, ZoomConnection.id, cursor),
                  ZoomConnection.created_at <= decode_cursor(cursor)[0]]
    newest_first = (ZoomConnection.created_at.desc(), ZoomConnection.id.desc())
    # The last row of this request's window, read from the index alone (None: fewer rows remain).
    edge = (await session.execute(
        select(ZoomConnection.created_at, ZoomConnection.id).where(*scope)
        .order_by(*newest_first).offset(window - 1).limit(1)
    )).first()
    query = select(ZoomConnection).where(*scope, search_filter(text))
    if edge is not None:
        query = query.where(ZoomConnection.created_at >= edge.created_at, or_(
            ZoomConnection.created_at > edge.created_at, ZoomConnection.id >= edge.id))
    rows = list((await session.execute(query.order_by(*newest_first).limit(limit + 1))).scalars())
    if len(rows) > limit:
        last = rows[limit - 1]
        return SearchPage(rows[:limit], encode_cursor(last.created_at, last.id))
    if edge is not None:
        return SearchPage(rows, encode_cursor(edge.created_at, edge.id), window_ended=True)
    return SearchPage(rows, None)
