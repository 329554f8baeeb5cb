"""The one retry rule for calls to Zoom: timeouts, 5xx and 429 are retried with capped,
jittered backoff (or Zoom's own Retry-After when it is short), 429 longer than outages;
anything else is an answer.

Ours rather than tenacity's: one loop whose whole policy is Zoom's (Retry-After honoured up to a
cap) and whose give-up is our typed ``ZoomDown``; the library would wrap the same dozen lines."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from obfbroker.connections.errors import ZoomDown
from obfbroker.zoom.errors import ZoomError, ZoomErrorKind, classify

log = logging.getLogger(__name__)
T = TypeVar("T")

# Timeouts and 5xx: Zoom may be down, so give up after a few attempts (about 2 s of waiting).
ATTEMPTS = 4
# 429 with a short Retry-After: Zoom said when to come back, so keep coming back, up to this many
# attempts in all. At the top of the hour many bots mint at once, and with 4 attempts a 5% rate of
# 429s failed about one mint in 160,000 (one top-of-the-hour burst in a hundred; docs/benchmarks.md).
RATE_LIMITED_ATTEMPTS = 8
# ... as long as the waits add up to no more than this (a bot is waiting for the answer).
RATE_LIMITED_WAIT_SECONDS = 8.0
BACKOFF_BASE_SECONDS = 0.25
BACKOFF_CAP_SECONDS = 4.0


def _backoff(attempt: int, retry_after: float | None) -> float | None:
    """Seconds to wait before the next attempt, or None when Zoom asks for longer than we wait."""
    if retry_after is not None:
        return retry_after if retry_after <= BACKOFF_CAP_SECONDS else None
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
    return random.uniform(ceiling / 2, ceiling)  # jitter spreads retries of many callers


async def retry_transient(call: Callable[[], Awaitable[T]], *, what: str) -> T:
    """Run ``call`` and retry Zoom timeouts, 5xx and 429 with capped, jittered backoff: at most
    ``ATTEMPTS`` failures that are timeouts or 5xx, at most ``RATE_LIMITED_ATTEMPTS`` attempts and
    ``RATE_LIMITED_WAIT_SECONDS`` of waiting in all."""
    unavailable, waited = 0, 0.0
    for attempt in range(RATE_LIMITED_ATTEMPTS):
        try:
            return await call()
        except ZoomError as err:
            kind = classify(err)
            if not kind.transient:
                raise
            rate_limited = kind is ZoomErrorKind.RATE_LIMITED
            unavailable += not rate_limited
            retry_after = getattr(err, "retry_after", None)
            delay = _backoff(attempt if rate_limited else unavailable - 1, retry_after)
            if delay is None or unavailable >= ATTEMPTS or attempt == RATE_LIMITED_ATTEMPTS - 1 \
                    or waited + delay > RATE_LIMITED_WAIT_SECONDS:
                log.warning("Zoom unavailable", extra={"during": what, "zoom_error": type(err).__name__})
                raise ZoomDown(retry_after, rate_limited=rate_limited, reason=err.reason) from None
            waited += delay
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")
