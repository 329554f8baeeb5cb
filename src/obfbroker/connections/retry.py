"""The one retry rule for calls to Zoom: timeouts, 5xx and 429 are retried with capped,
jittered backoff (or Zoom's own Retry-After when it is short); anything else is an answer.

Ours rather than tenacity's: one loop whose whole policy is Zoom's (Retry-After honoured up to a
cap) and whose give-up is our typed ``ZoomDown``; the library would wrap the same dozen lines."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from obfbroker.connections.errors import ZoomDown
from obfbroker.zoom.errors import ZoomRateLimited, ZoomUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

ATTEMPTS = 4
BACKOFF_BASE_SECONDS = 0.25
BACKOFF_CAP_SECONDS = 4.0


def _backoff(attempt: int, retry_after: float | None) -> float | None:
    """Seconds to wait before the next attempt, or None when Zoom asks for longer than we wait."""
    if retry_after is not None:
        return retry_after if retry_after <= BACKOFF_CAP_SECONDS else None
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
    return random.uniform(ceiling / 2, ceiling)  # jitter spreads retries of many callers


async def retry_transient(call: Callable[[], Awaitable[T]], *, what: str) -> T:
    """Run ``call`` and retry Zoom timeouts, 5xx and 429 with capped, jittered backoff."""
    for attempt in range(ATTEMPTS):
        try:
            return await call()
        except (ZoomRateLimited, ZoomUnavailable) as err:
            delay = _backoff(attempt, err.retry_after)
            if delay is None or attempt == ATTEMPTS - 1:
                log.warning("Zoom unavailable", extra={"during": what, "zoom_error": type(err).__name__})
                raise ZoomDown(err.retry_after, rate_limited=isinstance(err, ZoomRateLimited),
                               reason=err.reason) from None
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")
