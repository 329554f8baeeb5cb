"""The questions asked of stored bots and their timelines, one function each (the SQL; the
rules are in ``bots.service``). Account-scoped where the question is about one account's bots;
``bot_by_id`` is for the runner's and the token server's side, which has no account."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from obfbroker.bots.models import Bot, BotEvent
from obfbroker.connections.models import ZoomConnection
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
    query = select(Bot).where(Bot.id == bot_id, Bot.account_id == account_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


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
