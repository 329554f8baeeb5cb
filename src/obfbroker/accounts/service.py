"""Accounts, API keys and the keyed hashing that protects them."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from obfbroker.accounts.models import Account, ApiKey, ServerSecret
from obfbroker.db.base import new_id, utcnow
from obfbroker.errors import Unauthorized
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


async def load_hasher(factory: async_sessionmaker[AsyncSession], vault: Vault) -> Hasher:
    """The deployment's hashing key, created once and shared by every process."""
    column = dict(table="server_secrets", column="value", row_id=HASHING_SECRET_ID)
    for _ in range(3):
        async with factory() as session:
            row = await session.get(ServerSecret, HASHING_SECRET_ID)
            if row is not None:
                return Hasher(bytes.fromhex(vault.decrypt(row.value, **column)))
            sealed = vault.encrypt(secrets.token_hex(32), **column)
            session.add(ServerSecret(id=HASHING_SECRET_ID, value=sealed, created_at=utcnow()))
            try:
                await session.commit()
            except IntegrityError:  # another process created it first: read theirs
                await session.rollback()
    raise RuntimeError("could not load the API key hashing secret")


async def create_account(session: AsyncSession, hasher: Hasher, *, name: str) -> tuple[Account, str]:
    """A new account and its first API key (returned once, in plain text)."""
    account = Account(id=new_id("acc"), name=name, created_at=utcnow())
    session.add(account)
    await session.flush()
    key = await create_api_key(session, hasher, account=account, name="default")
    return account, key


async def create_api_key(session: AsyncSession, hasher: Hasher, *, account: Account,
                         name: str) -> str:
    plain = API_KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(id=new_id("key"), account_id=account.id, name=name,
                       prefix=plain[: len(API_KEY_PREFIX) + 6], key_hash=hasher.digest(plain),
                       created_at=utcnow()))
    await session.flush()
    return plain


def parse_authorization(header: str | None) -> str:
    """The key from ``Authorization: Token <key>`` (``Bearer`` is accepted too)."""
    if not header:
        raise Unauthorized("Missing Authorization header; send 'Authorization: Token <api_key>'",
                           code="missing_api_key", headers={"WWW-Authenticate": "Token"})
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() not in {"token", "bearer"} or not value.strip():
        raise Unauthorized("Malformed Authorization header; send 'Authorization: Token <api_key>'",
                           code="invalid_api_key", headers={"WWW-Authenticate": "Token"})
    return value.strip()


async def authenticate(session: AsyncSession, hasher: Hasher, *, api_key: str) -> Account:
    digest = hasher.digest(api_key)
    row = (await session.execute(
        select(ApiKey, Account).join(Account, Account.id == ApiKey.account_id)
        .where(ApiKey.key_hash == digest)
    )).first()
    # The lookup is by keyed hash; the final comparison is constant-time regardless.
    stored = row[0].key_hash if row else "0" * 64
    if not hmac.compare_digest(stored, digest) or row is None or row[0].revoked_at is not None:
        raise Unauthorized("Invalid API key", code="invalid_api_key",
                           headers={"WWW-Authenticate": "Token"})
    return row[1]
