"""A clock for tests whose waits take no time (src/obfbroker/clock.py has the service's)."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

from obfbroker.clock import OffsetClock


class SteppedClock(OffsetClock):
    """``sleep(s)`` returns at once and moves ``monotonic()`` by ``s``; ``monotonic()`` moves only
    by such sleeps and by ``advance``, so a duration measured on it is exactly what was slept or
    advanced, however long the machine took. ``now()`` is the wall clock plus what ``advance``
    added: sleeps leave it alone, so what is stamped with it (tokens, leases) still agrees with
    the other servers' clocks (the API's, the simulator's). ``slept`` lists every sleep asked for.
    Safe to advance from another thread (a test server's handler)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._elapsed = 0.0
        self.slept: list[float] = []

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            super().advance(delta)
            self._elapsed += delta.total_seconds()

    def monotonic(self) -> float:
        with self._lock:
            return self._elapsed

    async def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self._elapsed += max(seconds, 0.0)
        await asyncio.sleep(0)  # still a point where other tasks run, as a real sleep is
