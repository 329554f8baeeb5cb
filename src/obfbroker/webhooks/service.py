"""The account's webhook endpoint, its delivery log, and manual re-queueing of a message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.accounts.models import Account
from obfbroker.db.base import new_id
from obfbroker.db.repository import found
from obfbroker.errors import BadRequest, NotFound
from obfbroker.outbound import OutboundPolicy
from obfbroker.outbox import service as outbox
from obfbroker.outbox.models import MessageStatus, WebhookEndpoint, WebhookMessage
from obfbroker.outbox.service import RETRY_WINDOW
from obfbroker.urls import Rule, first_broken
from obfbroker.vault import Vault
from obfbroker.webhooks import repository
from obfbroker.webhooks.models import WebhookDelivery
from obfbroker.webhooks.signing import generate_secret

NOT_CONFIGURED = "No webhook endpoint is configured for this account; set one with PUT /api/v1/webhooks"


# The rules a webhook URL is held to, in the order they are reported (its length: schemas.py),
# before the outbound policy (outbound.py): https, and no address it refuses.
URL_RULES = {
    Rule.WHITESPACE: "must not contain whitespace or control characters",
    Rule.CONTROL_CHARACTER: "must not contain whitespace or control characters",
    Rule.UNPARSEABLE: "is not a valid URL",
    Rule.BAD_PORT: "is not a valid URL",
    Rule.NOT_ABSOLUTE: "must be an absolute https:// URL",
    Rule.OTHER_SCHEME: "must be an absolute https:// URL",
    Rule.CREDENTIALS: "must not contain credentials",
}


def validate_url(url: str, policy: OutboundPolicy) -> str:
    """A well-formed URL without credentials that the outbound policy lets us reach."""
    broken = first_broken(url, URL_RULES)
    if broken is not None:
        raise BadRequest(f"url {URL_RULES[broken]}", code="invalid_webhook_url")
    problem = policy.check_url(url)
    if problem is not None:
        raise BadRequest(f"url {problem.message}", code="invalid_webhook_url")
    return url


async def find(session: AsyncSession, account: Account) -> WebhookEndpoint | None:
    return await outbox.endpoint_of(session, account.id)


async def get(session: AsyncSession, account: Account) -> WebhookEndpoint:
    return found(await find(session, account), NotFound(NOT_CONFIGURED, code="webhook_not_configured"))


async def put(session: AsyncSession, account: Account, *, url: str, outbound: OutboundPolicy,
              vault: Vault, now: datetime) -> tuple[WebhookEndpoint, str]:
    """Set or replace the endpoint (``url`` held to the ``outbound`` policy); every call rotates
    the secret. Returns it in plain text (once: only the sealed form is kept)."""
    url = validate_url(url, outbound)
    endpoint = await find(session, account)
    if endpoint is None:
        endpoint = WebhookEndpoint(id=new_id("whe"), account_id=account.id, created_at=now)
        session.add(endpoint)
    secret = generate_secret()
    endpoint.url = url
    endpoint.secret = vault.seal(endpoint, "secret", secret)
    endpoint.updated_at = now
    # Messages parked while no endpoint existed (see delivery) wait until their deadline: send now.
    await repository.wake_parked_messages(session, account.id, now)
    await session.flush()
    return endpoint, secret


async def delete(session: AsyncSession, account: Account) -> None:
    """Remove the endpoint. Pending messages stay in the outbox until their 24 h deadline and
    are sent if an endpoint is configured again before it."""
    endpoint = await get(session, account)
    await session.delete(endpoint)
    await session.flush()


async def list_deliveries(session: AsyncSession, account: Account, *, limit: int, cursor: str | None,
                          ) -> tuple[list[tuple[WebhookDelivery, WebhookMessage]], str | None]:
    """One page of attempts, newest first, each with the message it belongs to."""
    return await repository.deliveries_page(session, account.id, limit=limit, cursor=cursor)


async def retry(session: AsyncSession, account: Account, message_id: str, *, now: datetime) -> WebhookMessage:
    """Queue a message again now, whatever its state, with a fresh 24 h window."""
    message = await repository.message_for_account(session, account.id, message_id)
    if message is None:
        raise NotFound(f"No webhook message {message_id} for this account",
                       code="webhook_message_not_found")
    message.status = MessageStatus.PENDING
    message.next_attempt_at = now
    message.expires_at = now + RETRY_WINDOW
    message.updated_at = now
    await session.flush()
    return message


async def first_receipt(session: AsyncSession, receipt_id: str, *, app_id: str, now: datetime,
                        forget_before: datetime) -> bool:
    """Record one Zoom webhook's receipt, after forgetting those received before
    ``forget_before``; False when it was received already (a replay)."""
    await repository.forget_zoom_receipts(session, received_before=forget_before)
    return await repository.record_zoom_receipt(session, receipt_id, app_id=app_id, now=now)
