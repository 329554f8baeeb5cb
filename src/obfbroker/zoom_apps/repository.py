"""The questions asked of stored Zoom apps, one function each (the rules are in
``zoom_apps.service``)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.db import repository as base
from obfbroker.zoom_apps.models import ZoomApp


async def default_app(session: AsyncSession, account_id: str) -> ZoomApp | None:
    """The account's default app."""
    return await base.one(session, ZoomApp, ZoomApp.account_id == account_id, ZoomApp.is_default.is_(True))


async def app_of_account(session: AsyncSession, account_id: str, app_id: str, *,
                         for_update: bool = False) -> ZoomApp | None:
    """One of the account's apps, by its id."""
    return await base.one(session, ZoomApp, ZoomApp.account_id == account_id, ZoomApp.id == app_id,
                          for_update=for_update)


async def apps_of_account(session: AsyncSession, account_id: str) -> list[ZoomApp]:
    """Every app of the account, the oldest first."""
    return list((await session.execute(select(ZoomApp).where(ZoomApp.account_id == account_id)
                                       .order_by(ZoomApp.created_at, ZoomApp.id))).scalars())


async def app_by_id(session: AsyncSession, app_id: str) -> ZoomApp | None:
    """Any account's app by its id (the id in its webhook URL)."""
    return await session.get(ZoomApp, app_id)


async def app_for_client(session: AsyncSession, account_id: str, client_id: str) -> ZoomApp | None:
    """The account's app whose Zoom Client ID is ``client_id`` (the app a connection was
    authorized through)."""
    return await base.one(session, ZoomApp, ZoomApp.account_id == account_id, ZoomApp.client_id == client_id)


async def clear_default(session: AsyncSession, account_id: str) -> None:
    """No app of the account is its default any more (before another one becomes it)."""
    await session.execute(update(ZoomApp)
                          .where(ZoomApp.account_id == account_id, ZoomApp.is_default.is_(True))
                          .values(is_default=False).execution_options(synchronize_session="fetch"))
    await session.flush()
