"""The metric families of one runtime and the calls that record them.

Each ``Runtime`` has its own ``Metrics`` (its own registry, never prometheus_client's global one:
tests run several apps in one process) and hands it explicitly to what records: the Zoom client
(``zoom_call``), ``TokenBroker`` (refreshes, mints), the bot runner, webhook delivery, keep-alive
and the worker's loops. Labels only ever hold values from a fixed vocabulary (route templates,
endpoint templates, outcome and error codes), never ids, tokens or anything a caller sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from typing import Any, Protocol

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.metrics_core import Metric

from obfbroker.zoom.errors import ZoomError, classify

UNMATCHED_ROUTE = "unmatched"
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Zoom answers in ~0.1-1 s; its timeout is 10 s by default.
ZOOM_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


# The ``type`` label of obfbroker_tokens_minted_total for each kind of token.
MINT_TYPES = {"onbehalf": "obf", "zak": "zak", "local_recording": "join_token"}


def _delivery_error(error: str) -> str:
    """``http_503`` -> ``http_5xx``: one series per status class, whatever customers answer."""
    if error.startswith("http_") and error[5:].isdigit():
        return f"http_{error[5]}xx"
    return error


class Gauges(Protocol):
    """Gauges a scrape reads first (``obfbroker.gauges.DatabaseGauges``)."""

    async def refresh(self, sessions: Any, now: Callable[[], datetime]) -> None: ...

    def collect(self) -> Iterator[Metric]: ...


class Metrics:
    """A registry with every obfbroker family (docs/operations.md lists them)."""

    def __init__(self, *, gauges: Gauges | None = None) -> None:
        # No ``*_created`` series: they double the text format and no alert reads them.
        disable_created_metrics()
        self.registry = registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        self.gauges = gauges
        if gauges is not None:
            registry.register(gauges)

        def counter(name: str, text: str, labels: tuple[str, ...] = ()) -> Counter:
            return Counter(name, text, labels, registry=registry)

        self.http_requests = counter(
            "obfbroker_http_requests_total", "HTTP requests answered, by method, route template and status",
            ("method", "route", "status"))
        self.http_latency = Histogram(
            "obfbroker_http_request_seconds", "HTTP request latency, by method and route template",
            ("method", "route"), registry=registry)
        self.zoom_latency = Histogram(
            "obfbroker_zoom_request_seconds", "Calls to Zoom's OAuth host and API, by endpoint template",
            ("endpoint",), buckets=ZOOM_BUCKETS, registry=registry)
        self.zoom_errors = counter(
            "obfbroker_zoom_errors_total", "Zoom calls that failed, by endpoint template and error kind",
            ("endpoint", "error"))
        self.refreshes = counter(
            "obfbroker_token_refreshes_total",
            "Refresh-token grants sent to Zoom (each retry counts), by outcome", ("outcome",))
        self.mints = counter(
            "obfbroker_tokens_minted_total",
            "OBF, ZAK and local-recording join token requests, by type and outcome (ok or the error "
            "code answered)", ("type", "outcome"))
        self.token_link_calls = counter(
            "obfbroker_token_link_calls_total",
            "Calls to token links that passed authentication, by platform, token type and outcome "
            "(minted or the error code answered)", ("platform", "token_type", "outcome"))
        self.bots_finished = counter(
            "obfbroker_bots_finished_total",
            "Bots that finished (in a runner, or stopped through the API while queued), by status and reason",
            ("status", "reason"))
        self.join_attempts = counter(
            "obfbroker_bot_join_attempts_total",
            "Join attempts of the bot runner, by outcome (joined, token_unavailable or the refusal)",
            ("outcome",))
        self.bots_running = Gauge("obfbroker_bots_running", "Bots this worker is running now",
                                  registry=registry)
        self.delivery_attempts = counter(
            "obfbroker_webhook_delivery_attempts_total",
            "Customer webhook and callback sends, by outcome (delivered or failed)", ("outcome",))
        self.delivery_failures = counter(
            "obfbroker_webhook_delivery_failures_total",
            "Customer webhook and callback sends that failed, by error", ("error",))
        self.messages_given_up = counter(
            "obfbroker_webhook_messages_given_up_total",
            "Outbox messages given up undelivered (their 24 h retry window ended)")
        self.keepalive = counter(
            "obfbroker_keepalive_connections_total",
            "Connections a keep-alive round took up, by outcome", ("outcome",))
        self.rounds = counter(
            "obfbroker_worker_rounds_total", "Rounds of the worker's loops, by loop and outcome",
            ("loop", "outcome"))
        # The series alerts divide or compare exist at 0 from the start, not from their first event.
        for outcome in ("ok", "invalid_grant", "invalid_client", "network", "server_error", "rate_limited"):
            self.refreshes.labels(outcome)
        for token_type in MINT_TYPES.values():
            self.mints.labels(token_type, "ok")
        for outcome in ("delivered", "failed"):
            self.delivery_attempts.labels(outcome)

    async def render(self, sessions, now: Callable[[], datetime]) -> bytes:
        """The text exposition, with the database gauges read first (or from their cache)."""
        if self.gauges is not None:
            await self.gauges.refresh(sessions, now)
        return generate_latest(self.registry)

    def http_request(self, method: str, route: str | None, status: int, seconds: float) -> None:
        method = method if method in HTTP_METHODS else "other"
        route = route or UNMATCHED_ROUTE
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_latency.labels(method, route).observe(seconds)

    def zoom_call(self, endpoint: str, seconds: float, error: ZoomError | None) -> None:
        """One call to Zoom (``ZoomClient(on_call=...)``)."""
        self.zoom_latency.labels(endpoint).observe(seconds)
        if error is not None:
            self.zoom_errors.labels(endpoint, classify(error).value).inc()

    def token_refresh(self, error: ZoomError | None) -> None:
        self.refreshes.labels("ok" if error is None else classify(error).value).inc()

    def token_minted(self, token_type: str, outcome: str) -> None:
        self.mints.labels(MINT_TYPES.get(token_type, token_type), outcome).inc()

    def token_link_call(self, platform: str, token_type: str, outcome: str) -> None:
        """One call to a token link (outcome ``minted`` or the error code answered)."""
        self.token_link_calls.labels(platform, token_type, outcome).inc()

    def bot_finished(self, status: str, reason: str | None) -> None:
        self.bots_finished.labels(status, reason or "none").inc()

    def join_attempt(self, outcome: str) -> None:
        self.join_attempts.labels(outcome).inc()

    def delivery_attempt(self, error: str | None, *, given_up: bool = False) -> None:
        self.delivery_attempts.labels("delivered" if error is None else "failed").inc()
        if error is not None:
            self.delivery_failures.labels(_delivery_error(error)).inc()
        if given_up:
            self.messages_given_up.inc()

    def keepalive_done(self, outcome: str) -> None:
        self.keepalive.labels(outcome).inc()

    async def round(self, loop: str, work: Callable[[], Awaitable[object]]) -> object:
        """Run one round of a worker loop, counted by its outcome."""
        try:
            result = await work()
        except Exception:
            self.rounds.labels(loop, "error").inc()
            raise
        self.rounds.labels(loop, "ok").inc()
        return result
