"""The time the service acts on. One object per runtime, so tests and demos can move time
(keep-alive over simulated months) by handing in another clock instead of patching code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """Wall-clock UTC time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


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
