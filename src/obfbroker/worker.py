"""``obfbroker worker``: the background loops (bot runner, keep-alive, customer webhook delivery).

Each loop runs a round, then sleeps a jittered interval; a failing round is logged and retried
next time, never fatal. Several workers can run against one PostgreSQL: every round claims its
work with row locks (``FOR UPDATE SKIP LOCKED``) and leases, so no item is done twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import signal
import socket
from collections.abc import Awaitable, Callable

import httpx

from obfbroker.connections.keepalive import ZoomAccountBudget, keepalive_round
from obfbroker.runtime import Runtime
from obfbroker.settings import Settings
from obfbroker.tls import client_context

log = logging.getLogger(__name__)
MAX_DELIVERY_ROUNDS = 20


async def _loop(name: str, interval: float, round_: Callable[[], Awaitable[object]],
                stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await round_()
        except Exception:
            log.exception("worker round failed; retrying next interval", extra={"loop": name})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval * random.uniform(0.8, 1.2))


class Worker:
    """The loops of one worker process, over one runtime."""

    def __init__(self, runtime: Runtime) -> None:
        from obfbroker.runner.runner import BotRunner, meeting_client

        self.runtime = runtime
        self.budget = ZoomAccountBudget()
        self.http = httpx.AsyncClient(timeout=10, follow_redirects=False, verify=client_context())
        worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        client = meeting_client(runtime)
        # The native Meeting SDK holds one meeting per process: such a worker runs one bot at a time.
        self.bots = BotRunner(runtime, client, worker_id=worker_id,
                              max_bots=1 if client.name == "zoom_sdk" else 20)

    async def keepalive(self) -> object:
        return await keepalive_round(self.runtime, self.budget)

    async def deliver_webhooks(self) -> int:
        """Delivery rounds until nothing is due: a delivered callback makes the next one of its
        bot's stream due at once, so a bot's callbacks don't wait a poll interval each."""
        from obfbroker.webhooks.delivery import deliver_due

        total = 0
        for _ in range(MAX_DELIVERY_ROUNDS):
            attempts = await deliver_due(self.runtime, self.http)
            total += attempts
            if attempts == 0:
                break
        return total

    async def run(self, stop: asyncio.Event) -> None:
        settings = self.runtime.settings
        loops = [
            _loop("keepalive", settings.keepalive_interval_seconds, self.keepalive, stop),
            _loop("webhooks", settings.worker_poll_seconds, self.deliver_webhooks, stop),
            _loop("bots", settings.worker_poll_seconds, self.bots.dispatch_round, stop),
        ]
        try:
            await asyncio.gather(*loops)
        finally:
            # Running bots are dropped; their leases run out and another worker takes them over.
            await self.bots.aclose()
            await self.http.aclose()


async def run_worker(settings: Settings) -> None:
    runtime = await Runtime.start(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker started")
    try:
        await Worker(runtime).run(stop)
    finally:
        await runtime.close()
        log.info("worker stopped")
