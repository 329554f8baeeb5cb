"""The questions asked of stored webhook rows, one function each (the SQL; the rules are in
``webhooks.service``, which ``flows.zoom_events`` calls; the outbox's own are in
``outbox.repository``): the account's endpoint, its messages and delivery log, and the receipts
of Zoom webhooks already accepted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.db import repository as base
from obfbroker.outbox.models import MessageStatus, WebhookEndpoint, WebhookMessage
from obfbroker.pagination import keyset_page
from obfbroker.webhooks.models import WebhookDelivery, ZoomWebhookReceipt


async def message_for_account(session: AsyncSession, account_id: str,
                              message_id: str) -> WebhookMessage | None:
    return await base.one(session, WebhookMessage, WebhookMessage.id == message_id,
                          WebhookMessage.account_id == account_id)


async def wake_parked_messages(session: AsyncSession, account_id: str, now: datetime) -> None:
    """Make due now the account's pending messages parked until their deadline (delivery parks
    a message that way while the account has no endpoint)."""
    await session.execute(
        update(WebhookMessage).where(
            WebhookMessage.account_id == account_id, WebhookMessage.status == MessageStatus.PENDING,
            WebhookMessage.next_attempt_at == WebhookMessage.expires_at,
        ).values(next_attempt_at=now, updated_at=now).execution_options(synchronize_session=False)
    )


async def deliveries_page(session: AsyncSession, account_id: str, *, limit: int, cursor: str | None,
                          ) -> tuple[list[tuple[WebhookDelivery, WebhookMessage]], str | None]:
    """One page of the account's delivery attempts, newest first, each with its message."""
    query = (select(WebhookDelivery, WebhookMessage)
             .join(WebhookMessage, WebhookMessage.id == WebhookDelivery.message_id)
             .where(WebhookDelivery.account_id == account_id))
    rows, next_cursor = await keyset_page(
        session, query, time_column=WebhookDelivery.attempted_at, id_column=WebhookDelivery.id,
        cursor=cursor, limit=limit, scalars=False, key=lambda row: row[0])
    return [(delivery, message) for delivery, message in rows], next_cursor


async def forget_zoom_receipts(session: AsyncSession, *, received_before: datetime) -> None:
    await session.execute(delete(ZoomWebhookReceipt).where(
        ZoomWebhookReceipt.received_at < received_before))


async def record_zoom_receipt(session: AsyncSession, receipt_id: str, *, app_id: str,
                              now: datetime) -> bool:
    """Store the receipt of one Zoom webhook; False if it is already stored (the unique id
    decides, so this holds across processes). Only the receipt is undone on False."""
    try:
        async with session.begin_nested():
            session.add(ZoomWebhookReceipt(id=receipt_id, app_id=app_id, received_at=now))
    except IntegrityError:
        return False
    return True


async def endpoints_of_accounts(session: AsyncSession, account_ids: set[str]) -> dict[str, WebhookEndpoint]:
    """The webhook endpoints of these accounts, by account id."""
    rows = await session.execute(select(WebhookEndpoint).where(WebhookEndpoint.account_id.in_(account_ids)))
    return {endpoint.account_id: endpoint for endpoint in rows.scalars()}
