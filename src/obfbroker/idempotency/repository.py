"""The questions asked of stored Idempotency-Key answers (the rules are in the package)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.idempotency.models import IdempotencyRecord


async def answered_records(session: AsyncSession, account_id: str,
                           operation: str) -> Sequence[IdempotencyRecord]:
    """The account's records of ``operation`` that hold an answer."""
    return (await session.execute(select(IdempotencyRecord).where(
        IdempotencyRecord.account_id == account_id, IdempotencyRecord.operation == operation,
        IdempotencyRecord.response_body.is_not(None)))).scalars().all()


async def delete_records(session: AsyncSession, record_ids: Sequence[str]) -> None:
    await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id.in_(record_ids))
                          .execution_options(synchronize_session=False))
