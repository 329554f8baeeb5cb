"""The time the service acts on. One object per runtime, so tests and demos can move time
(keep-alive over simulated months) by handing in another clock instead of patching code.

``now()`` stamps rows and events; ``monotonic()`` and ``sleep()`` measure and wait (how long a
webhook delivery took, the pauses between a bot's join attempts), so a test can also say how
much time passed there."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta


class Clock:
    """Wall-clock UTC time; the event loop's waits."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """Seconds from an arbitrary start, never going back: only differences mean anything."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class OffsetClock(Clock):
    """Wall-clock time plus an offset that only moves forward (tests, simulations)."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        self.offset += delta

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def monotonic(self) -> float:
        return time.monotonic() + self.offset.total_seconds()
