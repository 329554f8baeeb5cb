"""Gauges read from the database when metrics are scraped: connections by state, keep-alive due,
outbox due.

They read two domains (through their services), so they live above the domains; ``metrics.recorder`` only
registers them (``Metrics(gauges=...)``, made by the runtime).

A scrape reads them with three indexed queries (``ix_zoom_connections_state_keepalive``,
``ix_webhook_messages_status_next_attempt``) at most once per ``cache_seconds`` in a process:
scrapes in between, and scrapes that arrive while a read is running, answer from the last read,
so a scrape storm costs the database nothing more. A failed read keeps the last values and
counts ``obfbroker_metrics_database_errors_total``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from obfbroker.connections import service as connections
from obfbroker.connections.models import ConnectionState
from obfbroker.outbox import service as outbox

log = logging.getLogger(__name__)
READ_TIMEOUT_SECONDS = 5.0


@dataclass
class _Snapshot:
    connections: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ConnectionState, 0))
    keepalive_due: int = 0
    keepalive_oldest_seconds: float = 0.0
    outbox_due: int = 0
    outbox_oldest_seconds: float = 0.0


def _age(oldest: datetime | None, now: datetime) -> float:
    return max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0


async def _read(session: AsyncSession, now: datetime) -> _Snapshot:
    snapshot = _Snapshot()
    for state, count in (await connections.count_by_state(session)).items():
        snapshot.connections[ConnectionState(state)] = count
    due, oldest = await connections.keepalive_backlog(session, now)
    snapshot.keepalive_due, snapshot.keepalive_oldest_seconds = due, _age(oldest, now)
    # Due as delivery sees it: a callback waiting behind an earlier one of its stream is not due.
    due, oldest = await outbox.backlog(session, now)
    snapshot.outbox_due, snapshot.outbox_oldest_seconds = due, _age(oldest, now)
    return snapshot


class DatabaseGauges(Collector):
    """A prometheus_client collector over the last read; ``refresh`` reads when it is stale."""

    def __init__(self, *, cache_seconds: float) -> None:
        self.cache_seconds = cache_seconds
        self._snapshot = _Snapshot()
        self._read_at: float | None = None  # time.monotonic() of the last read
        self._errors = 0
        self._lock: asyncio.Lock | None = None

    def _stale(self) -> bool:
        return self._read_at is None or time.monotonic() - self._read_at >= self.cache_seconds

    async def refresh(self, sessions: async_sessionmaker[AsyncSession],
                      now: Callable[[], datetime]) -> None:
        if not self._stale():
            return
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            if not self._stale():
                return  # read by the scrape this one waited for
            try:
                async with asyncio.timeout(READ_TIMEOUT_SECONDS), sessions() as session:
                    self._snapshot = await _read(session, now())
            except Exception as err:
                self._errors += 1
                log.warning("metrics: reading the database gauges failed; serving the last values",
                            extra={"error": type(err).__name__})
            # Also after a failure: a database in trouble is asked again only after cache_seconds.
            self._read_at = time.monotonic()

    def describe(self) -> Iterator[Metric]:
        return self._families(_Snapshot())

    def collect(self) -> Iterator[Metric]:
        return self._families(self._snapshot)

    def _families(self, snapshot: _Snapshot) -> Iterator[Metric]:
        connections = GaugeMetricFamily("obfbroker_connections", "Zoom OAuth connections, by state",
                                        labels=["state"])
        for state, count in sorted(snapshot.connections.items()):
            connections.add_metric([str(state)], count)
        yield connections
        yield GaugeMetricFamily("obfbroker_keepalive_due_connections",
                                "Connected connections whose keep-alive refresh is due",
                                value=snapshot.keepalive_due)
        yield GaugeMetricFamily("obfbroker_keepalive_oldest_due_seconds",
                                "How long the most overdue keep-alive has been due (0: none due)",
                                value=snapshot.keepalive_oldest_seconds)
        yield GaugeMetricFamily("obfbroker_webhook_outbox_due_messages",
                                "Undelivered outbox messages due for a send now",
                                value=snapshot.outbox_due)
        yield GaugeMetricFamily("obfbroker_webhook_outbox_oldest_due_seconds",
                                "How long the most overdue outbox message has been due (0: none due)",
                                value=snapshot.outbox_oldest_seconds)
        yield CounterMetricFamily("obfbroker_metrics_database_errors",
                                  "Reads of the database gauges that failed", value=self._errors)
