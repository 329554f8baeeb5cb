"""``Idempotency-Key``: a retried create answers what the first attempt answered, once.

The first request with a key inserts a record in a short transaction of its own; the unique
constraint on ``(account_id, operation, key_hash)`` decides which of several concurrent requests
(in any number of processes) goes ahead. It writes the answer into the record in the same
transaction as the object it creates, so the object and its recorded answer commit together.
The others wait for that answer and replay it. A request that fails removes its record: errors
are not replayed, the retry runs again. Keys and bodies are stored as keyed hashes, the answer
sealed by the vault; records last 24 hours.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from obfbroker.db.base import Base, UTCDateTime, encrypted_column, new_id
from obfbroker.errors import BadRequest, Conflict

if TYPE_CHECKING:
    from obfbroker.runtime import Runtime

HEADER = "Idempotency-Key"
KEY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# A record without an answer this old belongs to a request that died mid-way: take it over.
ABANDONED_AFTER = timedelta(seconds=60)
POLL_SECONDS = 0.05
TABLE = "idempotency_keys"


class IdempotencyRecord(Base):
    __tablename__ = TABLE
    __table_args__ = (
        UniqueConstraint("account_id", "operation", "key_hash"),
        Index("ix_idempotency_keys_account_expires", "account_id", "expires_at"),
    )

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    operation: Mapped[str] = mapped_column(String(40), nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    # None while the first request is still running.
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_body: Mapped[str | None] = encrypted_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


@dataclass(frozen=True)
class Replay:
    status: int
    body: Any


def validate_key(value: str | None) -> str | None:
    """The header's key, or None without one; 400 for a key that can't be one."""
    if value is None:
        return None
    if not value or len(value) > MAX_KEY_LENGTH or not value.isascii() or not value.isprintable():
        raise BadRequest(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters",
                         code="invalid_idempotency_key")
    return value


def request_fingerprint(raw: bytes) -> str:
    """What "the same body" means: equal JSON (key order and spacing aside), else equal bytes."""
    try:
        return json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (ValueError, UnicodeDecodeError):
        return raw.hex()


def _reused() -> Conflict:
    return Conflict(f"This {HEADER} was already used with a different request body; use a new key "
                    "for a different request", code="idempotency_key_reused")


_TAKEN = object()  # a concurrent request inserted the record between our read and our insert


async def _try_claim(runtime: Runtime, record: IdempotencyRecord) -> IdempotencyRecord | object | None:
    """Insert ``record``: None when we own the key now, else the record already there (or _TAKEN)."""
    now = record.created_at
    async with runtime.sessions() as session:
        await session.execute(delete(IdempotencyRecord).where(
            IdempotencyRecord.account_id == record.account_id, IdempotencyRecord.expires_at < now))
        existing = (await session.execute(select(IdempotencyRecord).where(
            IdempotencyRecord.account_id == record.account_id,
            IdempotencyRecord.operation == record.operation,
            IdempotencyRecord.key_hash == record.key_hash))).scalar_one_or_none()
        if existing is not None and existing.response_status is None \
                and existing.created_at < now - ABANDONED_AFTER:
            await session.delete(existing)
            await session.flush()
            existing = None
        if existing is not None:
            await session.commit()
            return existing
        session.add(record)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            return _TAKEN
    return None


async def claim(runtime: Runtime, *, account_id: str, operation: str, key: str,
                request: bytes) -> IdempotencyRecord | Replay:
    """Own the key for this request, or the answer an earlier request with it gave."""
    hasher = runtime.hasher
    key_hash = hasher.digest(f"idempotency-key\n{account_id}\n{operation}\n{key}")
    request_hash = hasher.digest(f"idempotency-request\n{request_fingerprint(request)}")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + runtime.settings.duplicate_request_wait_seconds
    while True:
        now = runtime.clock.now()
        record = IdempotencyRecord(id=new_id("idem"), account_id=account_id, operation=operation,
                                   key_hash=key_hash, request_hash=request_hash, created_at=now,
                                   expires_at=now + KEY_TTL)
        existing = await _try_claim(runtime, record)
        if existing is None:
            return record
        if isinstance(existing, IdempotencyRecord):
            if existing.request_hash != request_hash:
                raise _reused()
            if existing.response_status is not None:
                body = runtime.vault.decrypt(existing.response_body, table=TABLE, column="response_body",
                                             row_id=existing.id)
                return Replay(existing.response_status, json.loads(body))
        if loop.time() > deadline:
            raise Conflict(f"A request with this {HEADER} is still being processed; retry in a few "
                           "seconds", code="idempotency_request_in_progress", headers={"Retry-After": "2"})
        await asyncio.sleep(POLL_SECONDS)


async def complete(session: AsyncSession, runtime: Runtime, record: IdempotencyRecord, *, status: int,
                   body: Any) -> None:
    """Record the answer in the request's own transaction, atomically with what it created."""
    stored = await session.get(IdempotencyRecord, record.id)
    if stored is None:
        return
    stored.response_status = status
    stored.response_body = runtime.vault.encrypt(json.dumps(body, separators=(",", ":")), table=TABLE,
                                                 column="response_body", row_id=stored.id)
    await session.flush()


async def release(runtime: Runtime, record: IdempotencyRecord) -> None:
    """Forget the key of a request that failed, so a retry runs again."""
    async with runtime.sessions() as session:
        await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record.id))
        await session.commit()


async def run_once(runtime: Runtime, session: AsyncSession, *, account_id: str, operation: str,
                   key: str | None, request: bytes, status: int,
                   execute: Callable[[], Awaitable[BaseModel]]) -> BaseModel | JSONResponse:
    """Run ``execute`` at most once per key; a replay answers the first answer, marked as such."""
    key = validate_key(key)
    if key is None:
        return await execute()
    owned = await claim(runtime, account_id=account_id, operation=operation, key=key, request=request)
    if isinstance(owned, Replay):
        return JSONResponse(owned.body, status_code=owned.status, headers={"Idempotent-Replayed": "true"})
    try:
        result = await execute()
        await complete(session, runtime, owned, status=status, body=jsonable_encoder(result))
        return result
    except BaseException:
        await release(runtime, owned)
        raise
