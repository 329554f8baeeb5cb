"""The questions asked of stored bots and their timelines, one function each (the SQL; the
rules are in ``bots.service``). Account-scoped where the question is about one account's bots;
``bot_by_id`` is for the runner's and the token server's side, which has no account."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from obfbroker.bots.models import Bot, BotEvent, BotStatus
from obfbroker.connections.models import ZoomConnection
from obfbroker.db import repository as base
from obfbroker.db.claims import claim_due
from obfbroker.pagination import keyset_page


async def bot_by_id(session: AsyncSession, bot_id: str) -> Bot | None:
    return await session.get(Bot, bot_id)


# The token path's two statements, built once (building one costs more than running it on SQLite).
BOT_FOR_TOKEN = (
    select(Bot.id, Bot.account_id, Bot.status, Bot.leave_requested_at, Bot.meeting_number,
           Bot.token_source, Bot.zoom, Bot.connection_id, Bot.candidate_connection_ids,
           ZoomConnection.state.label("connection_state"), ZoomConnection.access_token,
           ZoomConnection.access_token_expires_at, ZoomConnection.failing_since)
    .outerjoin(ZoomConnection, (ZoomConnection.id == Bot.connection_id)
               & (ZoomConnection.account_id == Bot.account_id))
    .where(Bot.id == bindparam("bot_id")))
CONNECTION_OF_USER = select(ZoomConnection.id).where(
    ZoomConnection.account_id == bindparam("account_id"),
    ZoomConnection.zoom_user_id == bindparam("zoom_user_id"))


async def bot_for_token(conn: AsyncConnection, bot_id: str) -> Row | None:
    """What a hosted token request checks of bot ``bot_id``, with its first connection's token
    columns: one Core query of plain columns (no session, no ORM objects) on the hot path."""
    return (await conn.execute(BOT_FOR_TOKEN, {"bot_id": bot_id})).first()


async def connection_id_of_user(conn: AsyncConnection, account_id: str, zoom_user_id: str) -> str | None:
    """The id of the account's connection of ``zoom_user_id`` (Core, for the token server)."""
    return (await conn.execute(CONNECTION_OF_USER,
                               {"account_id": account_id, "zoom_user_id": zoom_user_id})).scalar()


async def bot_for_account(session: AsyncSession, account_id: str, bot_id: str, *,
                          for_update: bool = False) -> Bot | None:
    """The account's bot ``bot_id`` (row-locked with ``for_update``)."""
    return await base.one(session, Bot, Bot.id == bot_id, Bot.account_id == account_id,
                          for_update=for_update)


async def deduplication_key_holder(session: AsyncSession, account_id: str, key: str) -> str | None:
    """The id of the account's unfinished bot that holds ``key``, if one does."""
    return (await session.execute(select(Bot.id).where(
        Bot.account_id == account_id, Bot.active_deduplication_key == key))).scalar_one_or_none()


async def bots_page(session: AsyncSession, account_id: str, *, status: str | None,
                    zoom_user_id: str | None, limit: int,
                    cursor: str | None) -> tuple[list[Bot], str | None]:
    """One page of the account's bots, newest first (keyset on created_at, id), optionally only
    those in ``status`` or acting for ``zoom_user_id``."""
    query = select(Bot).where(Bot.account_id == account_id)
    if status is not None:
        query = query.where(Bot.status == status)
    if zoom_user_id is not None:
        query = query.join(ZoomConnection, ZoomConnection.id == Bot.connection_id).where(
            ZoomConnection.zoom_user_id == zoom_user_id)
    return await keyset_page(session, query, time_column=Bot.created_at, id_column=Bot.id,
                             cursor=cursor, limit=limit)


async def timelines(session: AsyncSession, bot_ids: Collection[str]) -> dict[str, list[BotEvent]]:
    """The timeline entries of several bots in one query, by bot id, oldest first."""
    found: dict[str, list[BotEvent]] = {bot_id: [] for bot_id in bot_ids}
    if found:
        events = await session.execute(select(BotEvent).where(BotEvent.bot_id.in_(list(found)))
                                       .order_by(BotEvent.at, BotEvent.id))
        for event in events.scalars():
            found[event.bot_id].append(event)
    return found


async def unlink_connection(session: AsyncSession, connection_id: str) -> None:
    """Bots acting for an erased connection lose the link (they keep their history)."""
    await session.execute(update(Bot).where(Bot.connection_id == connection_id)
                          .values(connection_id=None).execution_options(synchronize_session=False))


# -- the runner's lease on a bot ------------------------------------------------------------------
def due_for_runner(now: datetime, active: Collection[str]) -> ColumnElement[bool]:
    """Bots a runner may take at ``now``: queued ones whose join time has come, and bots in an
    ``active`` status whose runner died or stopped (their lease ran out or was released)."""
    lease_free = or_(Bot.lease_expires_at.is_(None), Bot.lease_expires_at < now)
    return or_(
        and_(Bot.status == BotStatus.QUEUED, or_(Bot.join_at.is_(None), Bot.join_at <= now), lease_free),
        and_(Bot.status.in_(active), lease_free))


async def claim_for_runner(session: AsyncSession, now: datetime, active: Collection[str], *, owner: str,
                           until: datetime, limit: int) -> list[str]:
    """Lease up to ``limit`` bots that are due (``due_for_runner``) to ``owner`` until ``until``,
    oldest first; their ids. The caller commits."""
    claimed = await claim_due(session, Bot, due=due_for_runner(now, active), order_by=Bot.created_at,
                              limit=limit, lease={"lease_owner": owner, "lease_expires_at": until})
    return [bot.id for bot in claimed]


async def renew_lease(session: AsyncSession, bot_id: str, owner: str, until: datetime) -> bool:
    """Extend ``owner``'s lease on the bot; False when it no longer holds it."""
    result = await session.execute(update(Bot).where(Bot.id == bot_id, Bot.lease_owner == owner)
                                   .values(lease_expires_at=until))
    return result.rowcount == 1


async def release_lease(session: AsyncSession, bot_id: str, owner: str) -> None:
    await session.execute(update(Bot).where(Bot.id == bot_id, Bot.lease_owner == owner)
                          .values(lease_owner=None, lease_expires_at=None))


async def locked_bot(session: AsyncSession, bot_id: str) -> Bot:
    """The bot, row-locked for the caller's transaction."""
    return (await session.execute(select(Bot).where(Bot.id == bot_id).with_for_update())).scalar_one()


async def set_if_held(session: AsyncSession, bot_id: str, owner: str, values: dict[str, Any]) -> bool:
    """Set some of the bot's columns if ``owner`` holds its lease; False when it does not."""
    result = await session.execute(update(Bot).where(Bot.id == bot_id, Bot.lease_owner == owner)
                                   .values(**values))
    return result.rowcount == 1


async def add_one(session: AsyncSession, bot_id: str, counter: InstrumentedAttribute[int]) -> None:
    """Add one to a counter column of the bot (join_attempts, tokens_minted)."""
    await session.execute(update(Bot).where(Bot.id == bot_id).values({counter: counter + 1}))
