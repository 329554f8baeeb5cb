"""The questions asked of stored accounts and API keys, one function each (the rules, such as
constant-time comparison and never revoking the last key, are in ``accounts.service``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.accounts.models import Account, ApiKey


async def key_by_hash(session: AsyncSession, key_hash: str) -> tuple[ApiKey, Account] | None:
    """The key stored under ``key_hash`` (revoked or not) and its account."""
    row = (await session.execute(
        select(ApiKey, Account).join(Account, Account.id == ApiKey.account_id)
        .where(ApiKey.key_hash == key_hash)
    )).first()
    return (row[0], row[1]) if row is not None else None


async def account_for_active_key(session: AsyncSession, *, key_id: str, account_id: str) -> Account | None:
    """The account, if ``key_id`` is one of its keys and is not revoked."""
    return (await session.execute(
        select(Account).join(ApiKey, ApiKey.account_id == Account.id)
        .where(ApiKey.id == key_id, ApiKey.account_id == account_id, ApiKey.revoked_at.is_(None))
    )).scalar_one_or_none()


async def api_keys(session: AsyncSession, account_id: str, *, for_update: bool = False) -> list[ApiKey]:
    """Every key of the account, newest first, revoked ones included (row-locked with
    ``for_update``)."""
    query = (select(ApiKey).where(ApiKey.account_id == account_id)
             .order_by(ApiKey.created_at.desc(), ApiKey.id.desc()))
    if for_update:
        query = query.with_for_update()
    return list((await session.execute(query)).scalars())
