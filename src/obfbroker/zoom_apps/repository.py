"""The questions asked of stored Zoom apps, one function each (the rules are in
``zoom_apps.service``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.zoom_apps.models import ZoomApp


async def app_for_account(session: AsyncSession, account_id: str) -> ZoomApp | None:
    """The account's one Zoom app."""
    return (await session.execute(
        select(ZoomApp).where(ZoomApp.account_id == account_id)
    )).scalar_one_or_none()


async def app_by_id(session: AsyncSession, app_id: str) -> ZoomApp | None:
    """Any account's app by its id (the id in its webhook URL)."""
    return await session.get(ZoomApp, app_id)
