"""Waiting for an event instead of sleeping a fixed time: poll until it happened, up to a
deadline that is only there so a broken test fails instead of hanging."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

T = TypeVar("T")

MILLISECOND = timedelta(milliseconds=1)


def eventually(check: Callable[[], T], what: str, *, timeout: float = 30.0, every: float = 0.01) -> T:
    """The first truthy value ``check()`` returns, polled every ``every`` seconds; fails with
    ``what`` once ``timeout`` seconds passed without one."""
    deadline = time.monotonic() + timeout
    while True:
        if value := check():
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"never happened within {timeout} s: {what}")
        time.sleep(every)


def clock_past(moment: datetime | str) -> None:
    """Return once this machine's clock reads a later millisecond than ``moment`` (as the API
    writes timestamps, e.g. "2026-12-03T12:59:02.335Z"), so a timestamp the API stamps from now
    on sorts after it."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    next_millisecond = moment.replace(microsecond=moment.microsecond // 1000 * 1000) + MILLISECOND
    eventually(lambda: datetime.now(UTC) >= next_millisecond, f"the clock passes {moment.isoformat()}",
               every=0.001)
