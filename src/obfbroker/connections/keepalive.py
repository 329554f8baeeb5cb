"""Keep-alive: refresh idle connections before Zoom lets their refresh tokens die (~90 days).

A round claims the connections that are due (``next_keepalive_at <= now``, an indexed range
scan, so its cost follows the number due rather than the number stored), leases them so other
workers skip them (``db.claims``), then refreshes each through ``TokenBroker.keep_alive``, the
same single-flight path as minting. A per-Zoom-account budget keeps one customer's users from
tripping Zoom's rate limit, which is shared by every app of that Zoom account.
"""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from obfbroker.connections import repository
from obfbroker.connections.models import ZoomConnection
from obfbroker.connections.wiring import ConnectionKit
from obfbroker.db.claims import claim_due
from obfbroker.errors import ObfError

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
RETRY_AFTER_FAILURE = timedelta(hours=1)
DEFER_OVER_BUDGET = timedelta(minutes=1)


@dataclass
class ZoomAccountBudget:
    """At most ``per_minute`` keep-alive refreshes per Zoom account, in this process."""

    per_minute: int = 20
    _recent: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def take(self, zoom_account_id: str) -> bool:
        now, window = time.monotonic(), self._recent[zoom_account_id]
        while window and now - window[0] > 60:
            window.popleft()
        if len(window) >= self.per_minute:
            return False
        window.append(now)
        return True


@dataclass
class KeepaliveReport:
    refreshed: int = 0
    deferred: int = 0
    failed: int = 0
    disconnected: int = 0


async def _claim_due(kit: ConnectionKit, now: datetime, limit: int) -> list[tuple[str, str]]:
    """Lease up to ``limit`` due connections to this worker; returns (id, zoom account id)."""
    async with kit.lock_sessions() as session, session.begin():
        claimed = await claim_due(
            session, ZoomConnection,
            due=repository.keepalive_due(now),
            order_by=ZoomConnection.next_keepalive_at, limit=limit,
            lease={"next_keepalive_at": now + LEASE})
        return [(connection.id, connection.zoom_account_id) for connection in claimed]


async def _reschedule(kit: ConnectionKit, connection_id: str, when: datetime) -> None:
    async with kit.sessions() as session:
        await repository.reschedule_keepalive(session, connection_id, when)
        await session.commit()


async def keepalive_round(kit: ConnectionKit, budget: ZoomAccountBudget, *,
                          limit: int = 100) -> KeepaliveReport:
    """Refresh the connections that are due now; safe to run in several workers at once. Each
    connection's outcome is counted in ``obfbroker_keepalive_connections_total``."""
    now = kit.clock.now()
    report = KeepaliveReport()
    for connection_id, zoom_account_id in await _claim_due(kit, now, limit):
        if not budget.take(zoom_account_id or connection_id):
            report.deferred += 1
            kit.metrics.keepalive_done("deferred")
            await _reschedule(kit, connection_id, now + DEFER_OVER_BUDGET)
            continue
        try:
            # Refreshed by someone else since the claim (a mint, a reconnect)? Then that
            # refresh already set the next keep-alive and nothing is sent to Zoom.
            await kit.tokens.keep_alive(connection_id, stale_before=now)
            report.refreshed += 1
            kit.metrics.keepalive_done("refreshed")
        except ObfError as err:
            if err.code == "zoom_user_disconnected":
                report.disconnected += 1
                kit.metrics.keepalive_done("disconnected")
                continue
            report.failed += 1
            kit.metrics.keepalive_done("failed")
            jitter = timedelta(seconds=random.uniform(0, 600))
            await _reschedule(kit, connection_id, now + RETRY_AFTER_FAILURE + jitter)
            log.warning("keep-alive refresh failed; will retry",
                        extra={"connection_id": connection_id, "error_code": err.code})
    return report
