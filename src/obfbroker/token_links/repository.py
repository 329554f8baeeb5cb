"""The questions asked of stored token links and their uses, one function each (the rules are in
``token_links.service`` and ``token_links.calls``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from obfbroker.connections.models import ZoomConnection
from obfbroker.db import repository as base
from obfbroker.db.base import new_id
from obfbroker.pagination import keyset_page
from obfbroker.token_links.models import RevokedReason, TokenLink, TokenLinkUse


async def link_for_account(session: AsyncSession, account_id: str, link_id: str, *,
                           for_update: bool = False) -> TokenLink | None:
    return await base.one(session, TokenLink, TokenLink.id == link_id, TokenLink.account_id == account_id,
                          for_update=for_update)


async def links_page(session: AsyncSession, account_id: str, *, zoom_user_id: str | None,
                     platform: str | None, limit: int,
                     cursor: str | None) -> tuple[list[TokenLink], str | None]:
    """One page of the account's links, newest first (each filter has its index)."""
    query = select(TokenLink).where(TokenLink.account_id == account_id)
    if zoom_user_id is not None:
        query = query.where(TokenLink.zoom_user_id == zoom_user_id)
    if platform is not None:
        query = query.where(TokenLink.platform == platform)
    return await keyset_page(session, query, time_column=TokenLink.created_at, id_column=TokenLink.id,
                             cursor=cursor, limit=limit)


async def uses_page(session: AsyncSession, link_id: str, *, limit: int,
                    cursor: str | None) -> tuple[list[TokenLinkUse], str | None]:
    query = select(TokenLinkUse).where(TokenLinkUse.link_id == link_id)
    return await keyset_page(session, query, time_column=TokenLinkUse.at, id_column=TokenLinkUse.id,
                             cursor=cursor, limit=limit)


async def revoke_connection_links(session: AsyncSession, connection_id: str, now: datetime) -> None:
    """Revoke every link of a connection that is being erased (the rows stay, as history)."""
    await session.execute(
        update(TokenLink).where(TokenLink.connection_id == connection_id, TokenLink.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=RevokedReason.CONNECTION_DELETED, updated_at=now)
        .execution_options(synchronize_session=False))


# -- the call path: plain Core statements on a connection, built once -----------------------------

_RECENT = TokenLinkUse.__table__.alias("recent")
def _call_query():
    # The rate window: the link's calls since ``since``, at most ``rate_limit`` of them (so the
    # check costs the same however hard a link is being called), and the oldest of them.
    window = (select(_RECENT.c.at)
              .where(_RECENT.c.link_id == bindparam("link_id"), _RECENT.c.at > bindparam("since"))
              .order_by(_RECENT.c.at).limit(bindparam("rate_limit")).subquery("rate_window"))
    return (
        select(TokenLink.id, TokenLink.account_id, TokenLink.connection_id, TokenLink.zoom_user_id,
               TokenLink.platform, TokenLink.meeting_number, TokenLink.token_types, TokenLink.expires_at,
               TokenLink.max_uses, TokenLink.uses, TokenLink.secret_hash, TokenLink.platform_secret,
               TokenLink.revoked_at,
               ZoomConnection.state.label("connection_state"), ZoomConnection.access_token,
               ZoomConnection.access_token_expires_at, ZoomConnection.failing_since,
               select(func.count()).select_from(window).scalar_subquery().label("recent_calls"),
               select(func.min(window.c.at)).scalar_subquery().label("oldest_recent"))
        .outerjoin(ZoomConnection, and_(ZoomConnection.id == TokenLink.connection_id,
                                        ZoomConnection.account_id == TokenLink.account_id))
        .where(TokenLink.id == bindparam("link_id")))


CALL_QUERY = _call_query()


async def link_for_call(conn: AsyncConnection, link_id: str, *, since: datetime,
                        rate_limit: int) -> Row | None:
    """What a call checks of link ``link_id``, with its connection's token columns and up to
    ``rate_limit`` of its calls since ``since`` (counted, and the oldest): one query, no session,
    no ORM objects."""
    return (await conn.execute(CALL_QUERY, {"link_id": link_id, "since": since,
                                            "rate_limit": rate_limit})).first()


_RESERVE = (update(TokenLink)
            .where(TokenLink.id == bindparam("link_id"), TokenLink.revoked_at.is_(None),
                   or_(TokenLink.max_uses.is_(None), TokenLink.uses < TokenLink.max_uses),
                   or_(TokenLink.expires_at.is_(None), TokenLink.expires_at > bindparam("now")))
            .values(uses=TokenLink.uses + 1))


async def reserve_use(conn: AsyncConnection, link_id: str, *, now: datetime) -> bool:
    """Take one of a capped link's uses before minting, if one is left: the check and the count
    are one statement, so concurrent calls on any process never mint more than ``max_uses``."""
    return (await conn.execute(_RESERVE, {"link_id": link_id, "now": now})).rowcount == 1


def use_row(link_id: str, account_id: str, *, at: datetime, token_type: str, minted: Sequence[str],
            meeting_number: str | None, platform_bot_id: str | None, status: str,
            code: str | None) -> dict[str, Any]:
    """A use log row, with its id (use_log.py writes it)."""
    return {"id": new_id("tlu"), "link_id": link_id, "account_id": account_id, "at": at,
            "token_type": token_type, "minted": list(minted), "meeting_number": meeting_number,
            "platform_bot_id": platform_bot_id, "status": status, "code": code}


_INSERT_USE = insert(TokenLinkUse)
_COUNT_USE = (update(TokenLink).where(TokenLink.id == bindparam("link_id"))
              .values(uses=TokenLink.uses + bindparam("add", type_=TokenLink.uses.type),
                      last_used_at=func.coalesce(bindparam("used_at", type_=TokenLink.last_used_at.type),
                                                 TokenLink.last_used_at)))


async def write_uses(conn: AsyncConnection, rows: list[dict[str, Any]],
                     counts: dict[str, tuple[int, datetime | None]]) -> None:
    """Insert a batch of use rows and add to each link's counters (uses to add, the latest
    successful call), in the caller's transaction."""
    if rows:
        await conn.execute(_INSERT_USE, rows)
    if counts:
        await conn.execute(_COUNT_USE, [{"link_id": link_id, "add": added, "used_at": last}
                                        for link_id, (added, last) in counts.items()])


_RELEASE = (update(TokenLink).where(TokenLink.id == bindparam("link_id"), TokenLink.uses > 0)
            .values(uses=TokenLink.uses - 1))


async def release_use(conn: AsyncConnection, link_id: str) -> None:
    """Give back a use ``reserve_use`` took for a call that failed."""
    await conn.execute(_RELEASE, {"link_id": link_id})
