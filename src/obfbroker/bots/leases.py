"""The runner's lease on a bot: a worker claims due bots (queued ones whose time has come, and
active ones whose runner died or stopped), renews its lease while it drives them, changes them
only while it holds it, and lets go when done. What the runner (``runner/runner.py``) asks of
the bots domain; the SQL is in ``bots.repository``."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from obfbroker.bots import repository
from obfbroker.bots.models import Bot


async def claim(session: AsyncSession, now: datetime, active: Collection[str], *, owner: str,
                until: datetime, limit: int) -> list[str]:
    """The ids of up to ``limit`` due bots, now leased to ``owner`` until ``until`` (the caller
    commits)."""
    return await repository.claim_for_runner(session, now, active, owner=owner, until=until, limit=limit)


async def renew(session: AsyncSession, bot_id: str, owner: str, until: datetime) -> bool:
    """Extend ``owner``'s lease; False when it no longer holds the bot."""
    return await repository.renew_lease(session, bot_id, owner, until)


async def release(session: AsyncSession, bot_id: str, owner: str) -> None:
    await repository.release_lease(session, bot_id, owner)


async def locked(session: AsyncSession, bot_id: str) -> Bot:
    """The bot, row-locked for the caller's transaction."""
    return await repository.locked_bot(session, bot_id)


async def find(session: AsyncSession, bot_id: str) -> Bot | None:
    return await repository.bot_by_id(session, bot_id)


async def set_if_held(session: AsyncSession, bot_id: str, owner: str, values: dict[str, Any]) -> bool:
    """Set some of the bot's columns if ``owner`` holds its lease; False when it does not."""
    return await repository.set_if_held(session, bot_id, owner, values)


async def add_one(session: AsyncSession, bot_id: str, counter: InstrumentedAttribute[int]) -> None:
    """Add one to a counter column of the bot (join_attempts, tokens_minted)."""
    await repository.add_one(session, bot_id, counter)
