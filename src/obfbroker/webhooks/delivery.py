"""Sending the outbox: ``deliver_due`` claims due messages, POSTs them (Standard Webhooks
signatures) through the outbound client (outbound.py: public addresses only, checked when we
connect; no redirects) and records every attempt; failures back off exponentially until 24 h
after the event (``outbox.service.RETRY_WINDOW``).

Several workers may run at once. A claim sets a lease (``next_attempt_at`` = now + 60 s) and
commits before anything is sent, so another worker skips the message until the lease ends
(``db.claims``: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL; on SQLite inside ``BEGIN IMMEDIATE``
(``Deliverer.lock_sessions``), which lets one claim run at a time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from obfbroker.clock import Clock
from obfbroker.db.base import new_id
from obfbroker.metrics.recorder import Metrics
from obfbroker.outbound import OutboundRefused
from obfbroker.outbox import service as outbox
from obfbroker.outbox.models import MessageStatus, WebhookMessage
from obfbroker.vault import Vault
from obfbroker.webhooks import repository
from obfbroker.webhooks.models import WebhookDelivery
from obfbroker.webhooks.signing import sign

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
# Sends in flight at once per deliver_due call: with the timeout, this bounds how long a batch
# can take, which must stay inside the lease.
CONCURRENCY = 10
# Delay after the n-th failed attempt (the last one repeats), each stretched by +-20 % jitter.
BACKOFF = (timedelta(seconds=5), timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10),
           timedelta(minutes=30), timedelta(hours=1), timedelta(hours=2), timedelta(hours=4))
JITTER = 0.2
RESPONSE_EXCERPT_CHARS = 256
USER_AGENT = "obfbroker-webhooks/1"


def backoff(failed_attempts: int) -> timedelta:
    """How long to wait after the ``failed_attempts``-th failure, with jitter."""
    base = BACKOFF[min(max(failed_attempts, 1), len(BACKOFF)) - 1]
    return base * random.uniform(1 - JITTER, 1 + JITTER)


@dataclass(frozen=True)
class Deliverer:
    """What sending the outbox uses, built by the process that starts (``runtime.py``): the
    sessions that take row locks, the vault (endpoints' signing secrets), the clock, the metrics
    and how long one send may take."""

    lock_sessions: async_sessionmaker[AsyncSession]
    vault: Vault
    clock: Clock
    metrics: Metrics
    send_timeout_seconds: float


@dataclass
class _Claim:
    message_id: str
    account_id: str
    event_type: str
    payload: str
    url: str
    lease_until: datetime
    secret: str | None = field(repr=False)  # None: a callback of an account without an endpoint


@dataclass
class _Outcome:
    attempted_at: datetime
    duration_ms: int
    status: int | None = None
    error: str | None = None
    excerpt: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _park(message: WebhookMessage, now: datetime) -> None:
    """No endpoint (it was deleted): wait until the deadline, or give up if it has passed.
    A PUT of a new endpoint brings parked messages forward (service.put)."""
    if now >= message.expires_at:
        message.status = MessageStatus.FAILED
        message.next_attempt_at = None
    else:
        message.next_attempt_at = message.expires_at


async def _claim(out: Deliverer, limit: int) -> list[_Claim]:
    async with out.lock_sessions() as session, session.begin():
        now = out.clock.now()
        lease_until = now + LEASE
        messages = await outbox.claim_for_delivery(session, now, until=lease_until, limit=limit)
        if not messages:
            return []
        given_up = 0
        endpoints = await repository.endpoints_of_accounts(session, {m.account_id for m in messages})
        claims = []
        for message in messages:
            endpoint = endpoints.get(message.account_id)
            if message.target_url is None and endpoint is None:
                _park(message, now)  # replaces the lease
                given_up += message.status == MessageStatus.FAILED
                continue
            secret = None if endpoint is None else out.vault.open(endpoint, "secret")
            claims.append(_Claim(message.id, message.account_id, message.event_type, message.payload,
                                 message.target_url or endpoint.url, lease_until, secret))
    if given_up:
        out.metrics.messages_given_up.inc(given_up)
    return claims


async def _read_excerpt(response: httpx.Response) -> str | None:
    """At most 256 characters of the response, without reading more than needed."""
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= RESPONSE_EXCERPT_CHARS * 4:
            break
    text = b"".join(chunks).decode("utf-8", errors="replace")[:RESPONSE_EXCERPT_CHARS]
    return text or None


async def _send(out: Deliverer, http: httpx.AsyncClient, claim: _Claim) -> _Outcome:
    """POST the message once. ``http`` is the outbound client (outbound.py): what the policy
    refuses is recorded as ``refused_<reason>`` and nothing is sent."""
    attempted_at = out.clock.now()
    timestamp = int(attempted_at.timestamp())
    body = claim.payload.encode()
    headers = {"webhook-id": claim.message_id, "webhook-timestamp": str(timestamp),
               "content-type": "application/json", "user-agent": USER_AGENT}
    if claim.secret is not None:
        headers["webhook-signature"] = sign(claim.secret, claim.message_id, timestamp, body)
    outcome = _Outcome(attempted_at=attempted_at, duration_ms=0)
    started = out.clock.monotonic()  # the deliverer's clock: tests say how long a send took
    try:
        timeout = out.send_timeout_seconds
        async with asyncio.timeout(timeout):
            async with http.stream("POST", claim.url, content=body, headers=headers,
                                   timeout=timeout, follow_redirects=False) as response:
                outcome.status = response.status_code
                # The status decides; the body is only a hint for the customer.
                with contextlib.suppress(httpx.HTTPError):
                    outcome.excerpt = await _read_excerpt(response)
    except OutboundRefused as refused:  # before any byte was sent: nothing to read either
        outcome.error = f"refused_{refused.reason}"
    except (TimeoutError, httpx.TimeoutException):
        if outcome.status is None:
            outcome.error = "timeout"
    except (httpx.NetworkError, httpx.ProtocolError):
        if outcome.status is None:
            outcome.error = "connection_error"
    except httpx.HTTPError:
        if outcome.status is None:
            outcome.error = "request_error"
    outcome.duration_ms = round((out.clock.monotonic() - started) * 1000)
    if outcome.status is not None and not outcome.succeeded:
        outcome.error = f"http_{outcome.status}"
    return outcome


async def _record(out: Deliverer, claim: _Claim, outcome: _Outcome) -> None:
    """Log the attempt, decide what happens to the message next, and count it once committed."""
    async with out.lock_sessions() as session, session.begin():
        now = out.clock.now()
        message = await session.get(WebhookMessage, claim.message_id, with_for_update=True)
        if message is None:
            return  # the account was deleted while we were sending
        message.attempts += 1
        session.add(WebhookDelivery(
            id=new_id("whd"), account_id=message.account_id, message_id=message.id,
            event_type=message.event_type, attempt=message.attempts, attempted_at=outcome.attempted_at,
            response_status=outcome.status, response_body=outcome.excerpt, error=outcome.error,
            duration_ms=outcome.duration_ms, succeeded=outcome.succeeded,
        ))
        message.updated_at = now
        given_up = False
        if outcome.succeeded:
            message.status = MessageStatus.DELIVERED
            message.delivered_at = now
            message.next_attempt_at = None
        elif message.status == MessageStatus.PENDING and message.next_attempt_at == claim.lease_until:
            # Still our lease (a manual retry meanwhile would have rescheduled it itself).
            if now >= message.expires_at:
                message.status = MessageStatus.FAILED
                message.next_attempt_at = None
                given_up = True
            else:
                message.next_attempt_at = min(now + backoff(message.attempts), message.expires_at)
        log.info("webhook delivery attempt", extra={
            "message_id": message.id, "event_type": message.event_type, "attempt": message.attempts,
            "response_status": outcome.status, "error": outcome.error,
            "message_status": message.status, "duration_ms": outcome.duration_ms,
        })
    out.metrics.delivery_attempt(None if outcome.succeeded else outcome.error or "request_error",
                                     given_up=given_up)


async def deliver_due(out: Deliverer, http: httpx.AsyncClient, *, limit: int = 50) -> int:
    """Send up to ``limit`` due messages once each; returns the number of attempts made."""
    claims = await _claim(out, limit)
    started = time.monotonic()
    gate = asyncio.Semaphore(CONCURRENCY)

    async def attempt(claim: _Claim) -> bool:
        async with gate:
            budget = LEASE.total_seconds() - out.send_timeout_seconds - 5
            if time.monotonic() - started > budget:
                return False  # the lease could end mid-send; the next round takes the message
            outcome = await _send(out, http, claim)
            await _record(out, claim, outcome)
            return True

    results = await asyncio.gather(*(attempt(claim) for claim in claims), return_exceptions=True)
    errors = [result for result in results if isinstance(result, BaseException)]
    for error in errors:
        log.error("webhook delivery failed to record", exc_info=error)
    if errors:
        raise errors[0]
    return sum(1 for result in results if result is True)
