"""One obfbroker Runtime on one event loop for the length of a test.

Tests that act as the worker (deliver the outbox, refresh connections, read rows) call into the
runtime many times; starting a runtime per call builds an engine, connection pools and a Zoom
client each time. ``RuntimeSession`` keeps one of each and runs every call on the same loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from obfbroker.clock import Clock
from obfbroker.runtime import Runtime
from obfbroker.settings import Settings

T = TypeVar("T")


class RuntimeSession:
    def __init__(self, settings: Settings, *, clock: Clock | None = None):
        self.settings = settings
        self.clock = clock
        self._loop = asyncio.Runner()
        self._runtime: Runtime | None = None

    def run(self, work: Callable[[Runtime], Awaitable[T]]) -> T:
        """Run ``work(runtime)`` to completion on this session's loop."""
        return self._loop.run(self._call(work))

    async def _call(self, work: Callable[[Runtime], Awaitable[T]]) -> T:
        if self._runtime is None:
            self._runtime = await Runtime.start(self.settings, clock=self.clock)
        return await work(self._runtime)

    def close(self) -> None:
        if self._runtime is not None:
            self._loop.run(self._runtime.close())
            self._runtime = None
        self._loop.close()

    def __enter__(self) -> RuntimeSession:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
