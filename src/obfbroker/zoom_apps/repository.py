"""The questions asked of stored Zoom apps, one function each (the rules are in
``zoom_apps.service``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.db import repository as base
from obfbroker.zoom_apps.models import ZoomApp


async def app_for_account(session: AsyncSession, account_id: str) -> ZoomApp | None:
    """The account's one Zoom app."""
    return await base.one(session, ZoomApp, ZoomApp.account_id == account_id)


async def app_by_id(session: AsyncSession, app_id: str) -> ZoomApp | None:
    """Any account's app by its id (the id in its webhook URL)."""
    return await session.get(ZoomApp, app_id)
