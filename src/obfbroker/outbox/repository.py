"""The outbox's questions, one function each (the rules are in ``outbox.service``; delivery is
``webhooks.delivery``'s): the account's endpoint, the stored events about a row, what is due."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from obfbroker.db import repository as base
from obfbroker.db.claims import claim_due
from obfbroker.outbox.models import MessageStatus, WebhookEndpoint, WebhookMessage


def due_for_delivery(now: datetime) -> ColumnElement[bool]:
    """Messages a delivery round may send now: pending, their time come, and not waiting behind
    an earlier pending message of their stream (a bot's callbacks go one at a time, in order)."""
    earlier = aliased(WebhookMessage)
    behind_another = exists().where(earlier.stream_key == WebhookMessage.stream_key,
                                    earlier.status == MessageStatus.PENDING,
                                    earlier.stream_sequence < WebhookMessage.stream_sequence)
    return and_(WebhookMessage.status == MessageStatus.PENDING, WebhookMessage.next_attempt_at <= now,
                or_(WebhookMessage.stream_key.is_(None), ~behind_another))


async def claim_for_delivery(session: AsyncSession, now: datetime, *, until: datetime,
                             limit: int) -> list[WebhookMessage]:
    """Lease up to ``limit`` due messages (``due_for_delivery``) until ``until``, those due first.
    The caller commits."""
    return await claim_due(session, WebhookMessage, due=due_for_delivery(now),
                           order_by=WebhookMessage.next_attempt_at, limit=limit,
                           lease={"next_attempt_at": until, "updated_at": now})


async def endpoint_for_account(session: AsyncSession, account_id: str) -> WebhookEndpoint | None:
    """The account's one webhook endpoint."""
    return await base.one(session, WebhookEndpoint, WebhookEndpoint.account_id == account_id)


async def payloads_about(session: AsyncSession, account_id: str, subject_id: str,
                         event_types: Collection[str]) -> list[tuple[str, str]]:
    """(message id, payload) of the account's stored events of ``event_types`` about ``subject_id``."""
    return [tuple(row) for row in (await session.execute(
        select(WebhookMessage.id, WebhookMessage.payload).where(
            WebhookMessage.account_id == account_id, WebhookMessage.subject_id == subject_id,
            WebhookMessage.event_type.in_(event_types)))).all()]


async def replace_payload(session: AsyncSession, message_id: str, payload: str) -> None:
    await session.execute(update(WebhookMessage).where(WebhookMessage.id == message_id)
                          .values(payload=payload).execution_options(synchronize_session=False))


async def outbox_backlog(session: AsyncSession, now: datetime) -> tuple[int, datetime | None]:
    """How many messages are due for delivery at ``now`` (a callback waiting behind an earlier one
    of its stream is not), and the oldest due time."""
    count, oldest = (await session.execute(select(func.count(), func.min(WebhookMessage.next_attempt_at))
                                           .where(due_for_delivery(now)))).one()
    return count, oldest
