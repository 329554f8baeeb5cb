"""``Idempotency-Key``: a retried create answers what the first attempt answered, once.

The first request with a key claims it (``request_claims``): a record under the unique
constraint on ``(account_id, operation, key_hash)``, so one of several concurrent requests (in
any number of processes) goes ahead. It writes its answer into the record in the same
transaction as the object it creates, so the object and its recorded answer commit together.
The others wait for that answer and replay it. A request that fails removes its record: errors
are not replayed, the retry runs again.

What differs from the code receipts of connection-create (``connections.receipts``), on purpose:
the key is the client's own, so the same key with another body is refused, never replayed
(``request_hash``); the record holds a snapshot of the answer (status and body, sealed by the
vault), replayed as it was, with ``Idempotent-Replayed: true``, even after the object changed;
and it serves any create operation, for 24 hours. Keys and bodies are stored as keyed hashes.
Erasing what an answer is about deletes its records (``forget_answers``): no replay of it then.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import and_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from obfbroker import request_claims
from obfbroker.accounts.service import Hasher
from obfbroker.db.base import new_id
from obfbroker.errors import BadRequest, Conflict
from obfbroker.idempotency import repository
from obfbroker.idempotency.models import IdempotencyRecord
from obfbroker.vault import Vault


@dataclass(frozen=True)
class KeyStore:
    """What keeping Idempotency-Keys uses, given by the process that starts (runtime.py): the
    session factory for a key's own transaction, the vault for the sealed answers, the hasher for
    keys and bodies, the clock, and how long a retry waits for a first request still running."""

    sessions: async_sessionmaker[AsyncSession]
    vault: Vault
    hasher: Hasher
    clock: Callable[[], datetime]
    wait_seconds: float

HEADER = "Idempotency-Key"
KEY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255


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


def _still_running() -> Conflict:
    return Conflict(f"A request with this {HEADER} is still being processed; retry in a few seconds",
                    code="idempotency_request_in_progress", headers={"Retry-After": "2"})


def _key(store: KeyStore, *, account_id: str, operation: str, key: str,
         request: bytes) -> request_claims.Key[IdempotencyRecord]:
    key_hash = store.hasher.digest(f"idempotency-key\n{account_id}\n{operation}\n{key}")
    request_hash = store.hasher.digest(f"idempotency-request\n{request_fingerprint(request)}")

    def new_row(now: datetime) -> IdempotencyRecord:
        return IdempotencyRecord(id=new_id("idem"), account_id=account_id, operation=operation,
                                 key_hash=key_hash, request_hash=request_hash, created_at=now,
                                 expires_at=now + KEY_TTL)

    def same_request(record: IdempotencyRecord) -> None:
        if record.request_hash != request_hash:
            raise Conflict(f"This {HEADER} was already used with a different request body; use a new "
                           "key for a different request", code="idempotency_key_reused")

    return request_claims.Key(
        model=IdempotencyRecord,
        match=and_(IdempotencyRecord.account_id == account_id, IdempotencyRecord.operation == operation,
                   IdempotencyRecord.key_hash == key_hash),
        expired=lambda now: and_(IdempotencyRecord.account_id == account_id,
                                 IdempotencyRecord.expires_at < now),
        new_row=new_row, settled=lambda record: record.response_status is not None,
        still_running=_still_running, clock=store.clock, vet=same_request)


async def claim(store: KeyStore, *, account_id: str, operation: str, key: str,
                request: bytes, request_session: AsyncSession | None = None) -> IdempotencyRecord | Replay:
    """Own the key for this request, or the answer an earlier request with it gave."""
    claimed = await request_claims.claim(
        store.sessions, _key(store, account_id=account_id, operation=operation, key=key, request=request),
        wait_seconds=store.wait_seconds, request_session=request_session)
    record = claimed.row
    if claimed.owned:
        return record
    return Replay(record.response_status, json.loads(store.vault.open(record, "response_body")))


async def complete(session: AsyncSession, store: KeyStore, record: IdempotencyRecord, *, status: int,
                   body: Any) -> None:
    """Record the answer in the request's own transaction, atomically with what it created."""
    sealed = store.vault.seal(record, "response_body", json.dumps(body, separators=(",", ":")))
    await request_claims.settle(session, IdempotencyRecord, record.id,
                                {"response_status": status, "response_body": sealed})


async def run_once(store: KeyStore, session: AsyncSession, *, account_id: str, operation: str,
                   key: str | None, request: bytes, status: int,
                   execute: Callable[[], Awaitable[BaseModel]]) -> BaseModel | JSONResponse:
    """Run ``execute`` at most once per key; a replay answers the first answer, marked as such."""
    key = validate_key(key)
    if key is None:
        return await execute()
    owned = await claim(store, account_id=account_id, operation=operation, key=key, request=request,
                        request_session=session)
    if isinstance(owned, Replay):
        return JSONResponse(owned.body, status_code=owned.status, headers={"Idempotent-Replayed": "true"})
    try:
        result = await execute()
        await complete(session, store, owned, status=status, body=jsonable_encoder(result))
        return result
    except BaseException:
        await request_claims.release(store.sessions, IdempotencyRecord, owned.id)
        raise


async def forget_answers(session: AsyncSession, vault: Vault, *, account_id: str, operation: str,
                         about: Callable[[Any], bool]) -> int:
    """In the caller's transaction, delete the account's records of ``operation`` whose recorded
    answer ``about`` picks (each one opened: the answers are sealed). Returns how many."""
    records = await repository.answered_records(session, account_id, operation)
    doomed = [record.id for record in records
              if about(json.loads(vault.open(record, "response_body")))]
    if doomed:
        await repository.delete_records(session, doomed)
    return len(doomed)
