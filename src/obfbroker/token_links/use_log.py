"""The log of calls to token links, written in batches off the token path.

A call's answer never waits for its log row: the row joins a batch that one task writes every
``interval`` seconds (or sooner when ``max_batch`` rows wait), with the links' counters
(``uses``, ``last_used_at``) in the same transaction. Reads through this process flush first, so
a link's uses are never behind for the process that served its calls; other processes see them
within ``interval``. The rate limit counts this process's unwritten calls too (``waiting``). A
capped link's uses are taken and given back synchronously (calls.py), so batching never lets a
link mint more than ``max_uses``.

What batching costs: rows waiting when a process is killed outright (not stopped: stopping
flushes) are lost, at most ``interval`` seconds of calls; a failed write is retried at the next
round, and past ``max_pending`` waiting rows the oldest are dropped with an error in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from obfbroker.token_links import repository

log = logging.getLogger(__name__)


class UseLog:
    def __init__(self, engine: AsyncEngine, *, interval: float = 0.05, max_batch: int = 500,
                 max_pending: int = 50_000) -> None:
        self.engine = engine
        self.interval, self.max_batch, self.max_pending = interval, max_batch, max_pending
        self._pending: list[dict[str, Any]] = []
        self._in_flight: list[dict[str, Any]] = []  # being written, not yet committed
        self._counts: dict[str, tuple[int, datetime | None]] = {}
        self._writing = asyncio.Lock()
        self._due = asyncio.Event()
        self._task: asyncio.Task | None = None

    def add(self, use: dict[str, Any], *, add_uses: int, used_at: datetime | None) -> None:
        """Queue one call's row, and what it changes of its link's counters."""
        self._pending.append(use)
        if add_uses or used_at is not None:
            added, last = self._counts.get(use["link_id"], (0, None))
            self._counts[use["link_id"]] = (added + add_uses, _later(last, used_at))
        if len(self._pending) > self.max_pending:
            dropped = len(self._pending) - self.max_pending
            del self._pending[:dropped]
            log.error("token link use log is not being written; oldest rows dropped",
                      extra={"dropped": dropped})
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="token link use log")
        if len(self._pending) >= self.max_batch:
            self._due.set()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._due.wait(), timeout=self.interval)
            self._due.clear()
            try:
                await self.flush()
            except Exception:
                log.exception("token link use log write failed; retrying")

    async def flush(self) -> None:
        """Write everything queued so far (a no-op when nothing is)."""
        async with self._writing:
            if not self._pending and not self._counts:
                return
            rows, counts = self._pending, self._counts
            self._pending, self._counts, self._in_flight = [], {}, rows
            try:
                async with self.engine.begin() as conn:
                    await repository.write_uses(conn, rows, counts)
            except BaseException:
                # Put them back, ahead of what came meanwhile, for the next round.
                self._pending[:0] = rows
                for link_id, (added, last) in counts.items():
                    total, latest = self._counts.get(link_id, (0, None))
                    self._counts[link_id] = (total + added, _later(latest, last))
                raise
            finally:
                self._in_flight = []

    def waiting(self, link_id: str, since: datetime) -> tuple[int, datetime | None]:
        """The calls to ``link_id`` since ``since`` that this process has not written yet, and
        the oldest of them: what the rate limit adds to what the database holds."""
        count, oldest = 0, None
        for row in (*self._in_flight, *self._pending):
            if row["link_id"] == link_id and row["at"] > since:
                count += 1
                oldest = row["at"] if oldest is None else min(oldest, row["at"])
        return count, oldest

    async def aclose(self) -> None:
        """Stop the writer and write what is left."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.flush()


def _later(first: datetime | None, second: datetime | None) -> datetime | None:
    return second if first is None else first if second is None else max(first, second)
