"""The account's webhook endpoint, its delivery log, and manual re-queueing of a message."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.accounts.models import Account
from obfbroker.db.base import new_id
from obfbroker.errors import BadRequest, NotFound
from obfbroker.pagination import keyset_page
from obfbroker.webhooks.models import MessageStatus, WebhookDelivery, WebhookEndpoint, WebhookMessage
from obfbroker.webhooks.outbox import RETRY_WINDOW
from obfbroker.webhooks.signing import generate_secret

if TYPE_CHECKING:
    from obfbroker.runtime import Runtime

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
NOT_CONFIGURED = "No webhook endpoint is configured for this account; set one with PUT /api/v1/webhooks"


def validate_url(url: str) -> str:
    """https anywhere, plain http only to this machine; no credentials in the URL."""
    def invalid(why: str) -> BadRequest:
        return BadRequest(f"url {why}", code="invalid_webhook_url")

    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise invalid("must not contain whitespace or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise invalid("is not a valid URL") from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if scheme not in ("https", "http") or not host:
        raise invalid("must be an absolute https:// URL")
    if scheme == "http" and host not in LOOPBACK_HOSTS:
        raise invalid("must use https (plain http is allowed for localhost only)")
    if parts.username is not None or parts.password is not None:
        raise invalid("must not contain credentials")
    return url


def _seal(runtime: Runtime, endpoint: WebhookEndpoint, secret: str) -> str:
    return runtime.vault.encrypt(secret, table="webhook_endpoints", column="secret", row_id=endpoint.id)


async def find(session: AsyncSession, account_id: str) -> WebhookEndpoint | None:
    return (await session.execute(
        select(WebhookEndpoint).where(WebhookEndpoint.account_id == account_id)
    )).scalar_one_or_none()


async def get(session: AsyncSession, account: Account) -> WebhookEndpoint:
    endpoint = await find(session, account.id)
    if endpoint is None:
        raise NotFound(NOT_CONFIGURED, code="webhook_not_configured")
    return endpoint


async def put(session: AsyncSession, runtime: Runtime, account: Account, *,
              url: str) -> tuple[WebhookEndpoint, str]:
    """Set or replace the endpoint; every call rotates the secret. Returns it in plain text
    (once: only the sealed form is kept)."""
    url = validate_url(url)
    now = runtime.clock.now()
    endpoint = await find(session, account.id)
    if endpoint is None:
        endpoint = WebhookEndpoint(id=new_id("whe"), account_id=account.id, created_at=now)
        session.add(endpoint)
    secret = generate_secret()
    endpoint.url = url
    endpoint.secret = _seal(runtime, endpoint, secret)
    endpoint.updated_at = now
    # Messages parked while no endpoint existed (see outbox) wait until their deadline: send now.
    await session.execute(
        update(WebhookMessage).where(
            WebhookMessage.account_id == account.id, WebhookMessage.status == MessageStatus.PENDING,
            WebhookMessage.next_attempt_at == WebhookMessage.expires_at,
        ).values(next_attempt_at=now, updated_at=now).execution_options(synchronize_session=False)
    )
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
    query = (select(WebhookDelivery, WebhookMessage)
             .join(WebhookMessage, WebhookMessage.id == WebhookDelivery.message_id)
             .where(WebhookDelivery.account_id == account.id))
    rows, next_cursor = await keyset_page(
        session, query, time_column=WebhookDelivery.attempted_at, id_column=WebhookDelivery.id,
        cursor=cursor, limit=limit, scalars=False, key=lambda row: row[0])
    return [(delivery, message) for delivery, message in rows], next_cursor


async def retry(session: AsyncSession, runtime: Runtime, account: Account, message_id: str) -> WebhookMessage:
    """Queue a message again now, whatever its state, with a fresh 24 h window."""
    message = (await session.execute(select(WebhookMessage).where(
        WebhookMessage.id == message_id, WebhookMessage.account_id == account.id,
    ))).scalar_one_or_none()
    if message is None:
        raise NotFound(f"No webhook message {message_id} for this account",
                       code="webhook_message_not_found")
    now = runtime.clock.now()
    message.status = MessageStatus.PENDING
    message.next_attempt_at = now
    message.expires_at = now + RETRY_WINDOW
    message.updated_at = now
    await session.flush()
    return message
