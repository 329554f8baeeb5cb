"""Receipts of exchanged authorization codes: what makes connection-create safe to retry.

Zoom codes are single-use, so a customer retrying a timed-out connection-create would
otherwise get an error for a connection that was in fact made. A receipt (keyed hash of
code + redirect_uri, never the code) is claimed (``request_claims``) before Zoom is called; a
retry within ``RECEIPT_TTL`` waits for the first attempt and returns its connection.

What differs from ``Idempotency-Key`` (``idempotency``), on purpose: the key comes
from the code, so a retry is safe without any header, and a retry whose body differs otherwise
(e.g. other metadata) is still the same exchange: neither refused nor applied again. The
receipt holds the connection's id, not a snapshot of the answer, so a retry answers the
connection as it is now, with no replay marker. It lasts 10 minutes, as codes expire 5 minutes
after consent, and a retry that waited too long is ``code_exchange_in_progress``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from obfbroker import request_claims
from obfbroker.accounts.service import Hasher
from obfbroker.connections.models import CodeExchange
from obfbroker.db.base import new_id
from obfbroker.errors import Conflict

RECEIPT_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class Claim:
    receipt_id: str | None = None
    connection_id: str | None = None  # set when an earlier attempt already succeeded


def code_hash(hasher: Hasher, *, code: str, redirect_uri: str) -> str:
    return hasher.digest(f"zoom-code\n{redirect_uri}\n{code}")


def _still_running() -> Conflict:
    return Conflict("This authorization code is still being exchanged by an earlier request; retry in "
                    "a few seconds", code="code_exchange_in_progress", headers={"Retry-After": "2"})


def _key(account_id: str, digest: str, clock: Callable[[], datetime]) -> request_claims.Key[CodeExchange]:
    return request_claims.Key(
        model=CodeExchange,
        match=and_(CodeExchange.account_id == account_id, CodeExchange.code_hash == digest),
        expired=lambda now: and_(CodeExchange.account_id == account_id,
                                 CodeExchange.created_at < now - RECEIPT_TTL),
        new_row=lambda now: CodeExchange(id=new_id("cex"), account_id=account_id, code_hash=digest,
                                         created_at=now),
        settled=lambda receipt: receipt.connection_id is not None,
        still_running=_still_running, clock=clock)


async def claim(factory: async_sessionmaker[AsyncSession], *, account_id: str, digest: str,
                wait_seconds: float, clock: Callable[[], datetime],
                request_session: AsyncSession | None = None) -> Claim:
    """Claim the code for this attempt, or learn the connection an earlier attempt made (waiting
    up to ``wait_seconds`` for an attempt still in progress)."""
    claimed = await request_claims.claim(factory, _key(account_id, digest, clock), wait_seconds=wait_seconds,
                                         request_session=request_session)
    if claimed.owned:
        return Claim(receipt_id=claimed.row.id)
    return Claim(connection_id=claimed.row.connection_id)


async def release(factory: async_sessionmaker[AsyncSession], receipt_id: str) -> None:
    """Forget a claim whose exchange failed, so nothing of it stays stored."""
    await request_claims.release(factory, CodeExchange, receipt_id)


async def complete(session: AsyncSession, receipt_id: str, connection_id: str) -> None:
    """Record the outcome in the request's own transaction, atomically with the connection."""
    await request_claims.settle(session, CodeExchange, receipt_id, {"connection_id": connection_id})
