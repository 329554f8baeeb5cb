"""The outbox: events written with the change that caused them (``webhooks.delivery`` sends them).

``emit`` adds a message in the caller's transaction, so an event exists exactly when its change
was committed; ``emit_callback`` does the same for a bot's ``callback_url``, whose messages form
an ordered stream (only the oldest pending message of a stream is ever due). Both take the time
of the change, not the runtime: writing an event needs nothing but the session. An event may
name the row it is about (``subject_id``), so ``scrub`` can later blank personal data in every
stored event about that row, sent or not (what erasing it requires).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.db.base import new_id
from obfbroker.outbox import repository
from obfbroker.outbox.models import MessageStatus, WebhookEndpoint, WebhookMessage
from obfbroker.schemas import format_timestamp

RETRY_WINDOW = timedelta(hours=24)


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return format_timestamp(value)
    raise TypeError(f"webhook data holds a {type(value).__name__}, which is not JSON")


def envelope(event_type: str, data: dict[str, Any], at: datetime) -> str:
    """The body customers receive: ``{"type", "timestamp", "data"}``."""
    return json.dumps({"type": event_type, "timestamp": format_timestamp(at), "data": data},
                      separators=(",", ":"), ensure_ascii=False, default=_json_default)


async def emit(session: AsyncSession, *, account_id: str, event_type: str, data: dict[str, Any],
               now: datetime, subject_id: str | None = None) -> str | None:
    """Queue an event in the caller's transaction (flushed, not committed); ``subject_id`` names
    the row it is about.

    Returns the message id (``msg_...``), or None when the account has no webhook endpoint,
    in which case nothing is stored.
    """
    if await repository.endpoint_for_account(session, account_id) is None:
        return None
    message = WebhookMessage(
        id=new_id("msg"), account_id=account_id, event_type=event_type,
        payload=envelope(event_type, data, now), status=MessageStatus.PENDING, attempts=0,
        next_attempt_at=now, expires_at=now + RETRY_WINDOW, created_at=now, updated_at=now,
        subject_id=subject_id,
    )
    session.add(message)
    await session.flush()
    return message.id


async def emit_callback(session: AsyncSession, *, account_id: str, url: str, stream_key: str,
                        sequence: int, event_type: str, body: dict[str, Any], now: datetime) -> str:
    """Queue a POST of ``body`` (as is, no envelope) to ``url``, after every earlier message of
    ``stream_key``. Sent whether or not the account has a webhook endpoint; signed when it has."""
    message = WebhookMessage(
        id=new_id("msg"), account_id=account_id, event_type=event_type, target_url=url,
        stream_key=stream_key, stream_sequence=sequence,
        payload=json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=_json_default),
        status=MessageStatus.PENDING, attempts=0, next_attempt_at=now, expires_at=now + RETRY_WINDOW,
        created_at=now, updated_at=now,
    )
    session.add(message)
    await session.flush()
    return message.id


async def scrub(session: AsyncSession, *, account_id: str, subject_id: str,
                event_types: tuple[str, ...], blanks: dict[str, Any]) -> int:
    """In the caller's transaction, replace the ``data`` fields named in ``blanks`` with their
    blank value in every stored event of ``event_types`` about ``subject_id`` (what is sent
    later is the scrubbed body). Returns how many events changed."""
    rows = await repository.payloads_about(session, account_id, subject_id, event_types)
    changed = 0
    for message_id, payload in rows:
        body = json.loads(payload)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or all(data.get(k, v) == v for k, v in blanks.items()):
            continue
        data.update({key: value for key, value in blanks.items() if key in data})
        await repository.replace_payload(session, message_id,
                                         json.dumps(body, separators=(",", ":"), ensure_ascii=False))
        changed += 1
    return changed


async def claim_for_delivery(session: AsyncSession, now: datetime, *, until: datetime,
                             limit: int) -> list[WebhookMessage]:
    """Lease up to ``limit`` messages due at ``now`` (a callback waiting behind an earlier one of
    its stream is not due) until ``until``. The caller commits."""
    return await repository.claim_for_delivery(session, now, until=until, limit=limit)


async def endpoint_of(session: AsyncSession, account_id: str) -> WebhookEndpoint | None:
    """The account's one webhook endpoint, if it has one."""
    return await repository.endpoint_for_account(session, account_id)


async def backlog(session: AsyncSession, now: datetime) -> tuple[int, datetime | None]:
    """How many messages are due at ``now``, and the oldest due time (a gauge)."""
    return await repository.outbox_backlog(session, now)
