"""The questions asked of stored connections, one function each (the SQL; the rules are in
``connections.service``). Every function takes the caller's session and scopes by account
where the question is about one account's rows."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.connections.models import ZoomConnection
from obfbroker.pagination import keyset_page


async def connection_by_zoom_user(session: AsyncSession, account_id: str, zoom_user_id: str, *,
                                  for_update: bool = False) -> ZoomConnection | None:
    """The account's connection of ``zoom_user_id`` (row-locked with ``for_update``)."""
    query = select(ZoomConnection).where(ZoomConnection.account_id == account_id,
                                         ZoomConnection.zoom_user_id == zoom_user_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def connection_by_id(session: AsyncSession, account_id: str,
                           connection_id: str) -> ZoomConnection | None:
    return (await session.execute(select(ZoomConnection).where(
        ZoomConnection.account_id == account_id, ZoomConnection.id == connection_id,
    ))).scalar_one_or_none()


async def has_connections(session: AsyncSession, account_id: str) -> bool:
    """Whether the account ever connected a Zoom user (disconnected rows count)."""
    return bool((await session.execute(select(exists().where(
        ZoomConnection.account_id == account_id)))).scalar())


async def connections_page(session: AsyncSession, account_id: str, *, state: str | None,
                           limit: int, cursor: str | None) -> tuple[list[ZoomConnection], str | None]:
    """One page of the account's connections, newest first (keyset on created_at, id)."""
    query = select(ZoomConnection).where(ZoomConnection.account_id == account_id)
    if state is not None:
        query = query.where(ZoomConnection.state == state)
    return await keyset_page(session, query, time_column=ZoomConnection.created_at,
                             id_column=ZoomConnection.id, cursor=cursor, limit=limit)


async def zoom_user_ids(session: AsyncSession, connection_ids: Collection[str]) -> dict[str, str]:
    """The Zoom user id of each connection that still exists, by connection id (one query)."""
    if not connection_ids:
        return {}
    rows = await session.execute(select(ZoomConnection.id, ZoomConnection.zoom_user_id)
                                 .where(ZoomConnection.id.in_(list(connection_ids))))
    return {connection_id: zoom_user_id for connection_id, zoom_user_id in rows.all()}
