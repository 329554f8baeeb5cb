"""``obfbroker worker``: the background loops (bot runner, keep-alive, customer webhook delivery).

Each loop runs a round, then sleeps a jittered interval; a failing round is logged and retried
next time, never fatal. Several workers can run against one PostgreSQL: every round claims its
work with row locks (``FOR UPDATE SKIP LOCKED``) and leases, so no item is done twice.

The process serves its metrics on ``OBFBROKER_WORKER_METRICS_HOST:PORT`` (``/metrics``). A port
already in use is logged as one error line and the worker runs on without it: delivering
webhooks and keeping connections alive matter more than being scraped (the "worker metrics
target down" alert in docs/operations.md notices).
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

from obfbroker.connections.keepalive import ZoomAccountBudget, keepalive_round
from obfbroker.metrics.recorder import Metrics
from obfbroker.metrics.server import serve_metrics
from obfbroker.outbound import outbound_client
from obfbroker.runtime import Runtime
from obfbroker.settings import Settings

log = logging.getLogger(__name__)
MAX_DELIVERY_ROUNDS = 20


async def _loop(metrics: Metrics, name: str, interval: float, round_: Callable[[], Awaitable[object]],
                stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await metrics.round(name, round_)
        except Exception:
            log.exception("worker round failed; retrying next interval", extra={"loop": name})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval * random.uniform(0.8, 1.2))


class Worker:
    """The loops of one worker process. Built here, at the worker's start-up (a composition root,
    as runtime.py and app.py are): each loop gets what it uses from the runtime."""

    def __init__(self, runtime: Runtime) -> None:
        from obfbroker.runner.runner import BotRunner, meeting_client

        self.runtime = runtime
        self.budget = ZoomAccountBudget()
        # Customers' webhook endpoints and callback URLs: the outbound policy at every connect.
        self.http = outbound_client(runtime.outbound, timeout=runtime.settings.webhook_send_timeout_seconds)
        worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        client = meeting_client(runtime.settings)
        # The native Meeting SDK holds one meeting per process: such a worker runs one bot at a time.
        self.bots = BotRunner(runtime.bots, client, lock_sessions=runtime.lock_sessions, vault=runtime.vault,
                              outbound=runtime.outbound, settings=runtime.settings, worker_id=worker_id,
                              max_bots=1 if client.name == "zoom_sdk" else 20)
        runtime.metrics.bots_running.set_function(lambda: len(self.bots.tasks))

    async def keepalive(self) -> object:
        return await keepalive_round(self.runtime.connections, self.budget)

    async def deliver_webhooks(self) -> int:
        """Delivery rounds until nothing is due: a delivered callback makes the next one of its
        bot's stream due at once, so a bot's callbacks don't wait a poll interval each."""
        from obfbroker.webhooks.delivery import deliver_due

        total = 0
        for _ in range(MAX_DELIVERY_ROUNDS):
            attempts = await deliver_due(self.runtime.deliverer, self.http)
            total += attempts
            if attempts == 0:
                break
        return total

    async def run(self, stop: asyncio.Event) -> None:
        settings, metrics = self.runtime.settings, self.runtime.metrics
        loops = [
            _loop(metrics, "keepalive", settings.keepalive_interval_seconds, self.keepalive, stop),
            _loop(metrics, "webhooks", settings.worker_poll_seconds, self.deliver_webhooks, stop),
            _loop(metrics, "bots", settings.worker_poll_seconds, self.bots.dispatch_round, stop),
        ]
        try:
            await asyncio.gather(*loops)
        finally:
            # Running bots are dropped; their leases run out and another worker takes them over.
            await self.bots.aclose()
            await self.http.aclose()


async def start_metrics_server(runtime: Runtime) -> asyncio.Server | None:
    """The worker's /metrics endpoint; None when turned off (port 0) or the port is taken."""
    host, port = runtime.settings.worker_metrics_host, runtime.settings.worker_metrics_port
    if not port:
        return None
    try:
        server = await serve_metrics(lambda: runtime.metrics.render(runtime.sessions, runtime.clock.now),
                                     host=host, port=port)
    except OSError as err:
        reason = os.strerror(err.errno).lower() if err.errno else "cannot bind"
        log.error(f"worker metrics not served: cannot listen on {host}:{port} ({reason}); "
                  "set OBFBROKER_WORKER_METRICS_PORT to a free port, or 0 to turn them off")
        return None
    log.info("worker metrics served", extra={"url": f"http://{host}:{port}/metrics"})
    return server


async def run_worker(settings: Settings) -> None:
    runtime = await Runtime.start(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    metrics_server = await start_metrics_server(runtime)
    log.info("worker started")
    try:
        await Worker(runtime).run(stop)
    finally:
        if metrics_server is not None:
            metrics_server.close()
        await runtime.close()
        log.info("worker stopped")
