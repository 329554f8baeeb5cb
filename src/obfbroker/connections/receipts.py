"""Receipts of exchanged authorization codes: what makes connection-create safe to retry.

Zoom codes are single-use, so a customer retrying a timed-out connection-create would
otherwise get an error for a connection that was in fact made. A receipt (keyed hash of
code + redirect_uri, never the code) is claimed in its own short transaction before Zoom
is called; a retry within ``RECEIPT_TTL`` waits for the first attempt and returns its
connection.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from obfbroker.accounts.service import Hasher
from obfbroker.connections.models import CodeExchange
from obfbroker.db.base import new_id, utcnow
from obfbroker.errors import Conflict

RECEIPT_TTL = timedelta(minutes=10)
# A pending receipt older than this belongs to an attempt that died mid-exchange.
ABANDONED_AFTER = timedelta(seconds=60)
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Claim:
    receipt_id: str | None = None
    connection_id: str | None = None  # set when an earlier attempt already succeeded


def code_hash(hasher: Hasher, *, code: str, redirect_uri: str) -> str:
    return hasher.digest(f"zoom-code\n{redirect_uri}\n{code}")


async def _try_claim(session: AsyncSession, account_id: str, digest: str) -> Claim | None:
    now = utcnow()
    await session.execute(delete(CodeExchange).where(
        CodeExchange.account_id == account_id, CodeExchange.created_at < now - RECEIPT_TTL))
    row = (await session.execute(select(CodeExchange).where(
        CodeExchange.account_id == account_id, CodeExchange.code_hash == digest))).scalar_one_or_none()
    if row is not None and row.connection_id is not None:
        return Claim(connection_id=row.connection_id)
    if row is not None:
        if row.created_at > now - ABANDONED_AFTER:
            return None  # still in flight elsewhere
        await session.delete(row)
        await session.flush()
    receipt = CodeExchange(id=new_id("cex"), account_id=account_id, code_hash=digest, created_at=now)
    session.add(receipt)
    await session.flush()
    return Claim(receipt_id=receipt.id)


async def claim(factory: async_sessionmaker[AsyncSession], *, account_id: str, digest: str,
                wait_seconds: float) -> Claim:
    """Claim the code for this attempt, or learn the connection an earlier attempt made (waiting
    up to ``wait_seconds`` for an attempt still in progress)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while True:
        async with factory() as session:
            try:
                result = await _try_claim(session, account_id, digest)
                await session.commit()
            except IntegrityError:  # a concurrent attempt claimed it between our read and insert
                await session.rollback()
                result = None
        if result is not None:
            return result
        if loop.time() > deadline:
            raise Conflict("This authorization code is still being exchanged by an earlier "
                           "request; retry in a few seconds", code="code_exchange_in_progress",
                           headers={"Retry-After": "2"})
        await asyncio.sleep(POLL_SECONDS)


async def release(factory: async_sessionmaker[AsyncSession], receipt_id: str) -> None:
    """Forget a claim whose exchange failed, so nothing of it stays stored."""
    async with factory() as session:
        await session.execute(delete(CodeExchange).where(CodeExchange.id == receipt_id))
        await session.commit()


async def complete(session: AsyncSession, receipt_id: str, connection_id: str) -> None:
    """Record the outcome in the request's own transaction, atomically with the connection."""
    receipt = await session.get(CodeExchange, receipt_id)
    if receipt is not None:
        receipt.connection_id = connection_id
        await session.flush()
