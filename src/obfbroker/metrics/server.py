"""The worker's metrics endpoint: ``GET /metrics`` (and ``GET /healthz``) on a port of its own.

A few lines over ``asyncio.start_server`` on the worker's event loop, so the database gauges are
read on that loop like any other query, and starting it installs no signal handlers (an HTTP
server library would take over SIGTERM from the worker). It answers one request per connection
and closes it, which is all a Prometheus scrape or a liveness probe needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST

log = logging.getLogger(__name__)
REQUEST_TIMEOUT_SECONDS = 10.0
MAX_REQUEST_HEAD_BYTES = 16 * 1024


def _response(status: str, body: bytes, content_type: str = "text/plain; charset=utf-8") -> bytes:
    head = (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n")
    return head.encode("ascii") + body


async def serve_metrics(render: Callable[[], Awaitable[bytes]], *, host: str, port: int) -> asyncio.Server:
    """Listen on ``host:port`` (raises ``OSError`` when it cannot bind, e.g. the port is in use)."""

    async def answer(head: bytes) -> bytes:
        method, _, rest = head.partition(b" ")
        path = rest.partition(b" ")[0].partition(b"?")[0]
        if method not in (b"GET", b"HEAD"):
            return _response("405 Method Not Allowed", b"method not allowed\n")
        if path == b"/metrics":
            body = await render()
            return _response("200 OK", b"" if method == b"HEAD" else body, CONTENT_TYPE_LATEST)
        if path == b"/healthz":
            return _response("200 OK", b'{"status":"ok"}', "application/json")
        return _response("404 Not Found", b"not found: try /metrics\n")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
                head = await reader.readuntil(b"\r\n\r\n")
                writer.write(await answer(head))
                await writer.drain()
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # a client that went away or sent no request: nothing to answer
        except Exception:
            log.exception("worker metrics: answering a scrape failed")
            writer.write(_response("500 Internal Server Error", b"metrics unavailable\n"))
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    return await asyncio.start_server(handle, host, port, limit=MAX_REQUEST_HEAD_BYTES)
