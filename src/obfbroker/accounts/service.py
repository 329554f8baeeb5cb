"""Accounts, API keys and the keyed hashing that protects them."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from obfbroker.accounts import repository
from obfbroker.accounts.models import Account, ApiKey, ServerSecret
from obfbroker.db.base import new_id
from obfbroker.errors import Conflict, Forbidden, NotFound, Unauthorized
from obfbroker.vault import Vault

API_KEY_PREFIX = "obf_live_"
HASHING_SECRET_ID = "api_key_hashing"


@dataclass(frozen=True, repr=False)
class Hasher:
    """Keyed HMAC-SHA256 for values we must recognise but never store: API keys, codes."""

    key: bytes

    def digest(self, value: str) -> str:
        return hmac.new(self.key, value.encode(), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "Hasher(<redacted>)"


async def load_hasher(factory: async_sessionmaker[AsyncSession], vault: Vault, *, now: datetime) -> Hasher:
    """The deployment's hashing key, created once and shared by every process."""
    for _ in range(3):
        async with factory() as session:
            row = await session.get(ServerSecret, HASHING_SECRET_ID)
            if row is not None:
                return Hasher(bytes.fromhex(vault.open(row, "value")))
            row = ServerSecret(id=HASHING_SECRET_ID, created_at=now)
            row.value = vault.seal(row, "value", secrets.token_hex(32))
            session.add(row)
            try:
                await session.commit()
            except IntegrityError:  # another process created it first: read theirs
                await session.rollback()
    raise RuntimeError("could not load the API key hashing secret")


async def create_account(session: AsyncSession, hasher: Hasher, *, name: str,
                         now: datetime) -> tuple[Account, str]:
    """A new account and its first API key (returned once, in plain text)."""
    account = Account(id=new_id("acc"), name=name, created_at=now)
    session.add(account)
    await session.flush()
    key = await create_api_key(session, hasher, account=account, name="default", now=now)
    return account, key


async def create_api_key(session: AsyncSession, hasher: Hasher, *, account: Account,
                         name: str, now: datetime) -> str:
    plain = API_KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(id=new_id("key"), account_id=account.id, name=name,
                       prefix=plain[: len(API_KEY_PREFIX) + 6], key_hash=hasher.digest(plain),
                       created_at=now))
    await session.flush()
    return plain


REJECTED_KEY = ("The API key was received but rejected: it is unknown or has been revoked; "
                "check the key, or create a new one in the dashboard")


def parse_authorization(header: str | None) -> str:
    """The key from ``Authorization: Token <key>`` (``Bearer`` is accepted too).

    No key at all is 401; a header that carries no key in a form we read is 401 too. A key that
    was sent is judged by ``authenticate``: unknown or revoked is 403 (clients written for
    MeetStream's API read 403 as "the key was received and rejected").
    """
    if not header or not header.strip():
        raise Unauthorized("Missing Authorization header; send 'Authorization: Token <api_key>'",
                           code="missing_api_key", headers={"WWW-Authenticate": "Token"})
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() not in {"token", "bearer"} or not value.strip():
        raise Unauthorized("Malformed Authorization header; send 'Authorization: Token <api_key>'",
                           code="malformed_authorization", headers={"WWW-Authenticate": "Token"})
    return value.strip()


async def authenticate(session: AsyncSession, hasher: Hasher, *, api_key: str) -> Account:
    return (await authenticate_key(session, hasher, api_key=api_key))[1]


async def authenticate_key(session: AsyncSession, hasher: Hasher, *, api_key: str) -> tuple[ApiKey, Account]:
    """Like ``authenticate``, also naming the key used (dashboard sessions are bound to it)."""
    digest = hasher.digest(api_key)
    found = await repository.key_by_hash(session, digest)
    # The lookup is by keyed hash; the final comparison is constant-time regardless.
    stored = found[0].key_hash if found else "0" * 64
    if not hmac.compare_digest(stored, digest) or found is None or found[0].revoked_at is not None:
        raise Forbidden(REJECTED_KEY, code="invalid_api_key")
    return found


async def account_for_active_key(session: AsyncSession, *, key_id: str, account_id: str) -> Account | None:
    """The account, if ``key_id`` is one of its keys and is not revoked (else None)."""
    return await repository.account_for_active_key(session, key_id=key_id, account_id=account_id)


async def list_api_keys(session: AsyncSession, account: Account) -> list[ApiKey]:
    """The account's keys, newest first, revoked ones included (never the key itself)."""
    return await repository.api_keys(session, account.id)


async def revoke_api_key(session: AsyncSession, account: Account, key_id: str, *,
                         now: datetime) -> ApiKey:
    """Revoke one of the account's keys. The last active key can't be revoked: the account
    would be locked out, with no key left to sign in or call the API with."""
    # Lock every key of the account, so two revocations can't each leave "the other one".
    keys = await repository.api_keys(session, account.id, for_update=True)
    key = next((k for k in keys if k.id == key_id), None)
    if key is None:
        raise NotFound(f"API key {key_id} not found", code="api_key_not_found")
    if key.revoked_at is not None:
        return key
    if not any(k.revoked_at is None and k.id != key.id for k in keys):
        raise Conflict("This is the account's last active API key; create another before revoking it",
                       code="last_api_key")
    key.revoked_at = now
    await session.flush()
    return key
