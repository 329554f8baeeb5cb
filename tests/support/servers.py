"""Run an ASGI app on a real loopback port in a background thread, for tests."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

# Ports for test servers come from a block of their own per pytest-xdist worker, below the
# kernel's ephemeral range (32768+), so a port chosen here is not handed to another worker or to
# an outgoing connection before the server that was meant to bind it does.
_BLOCK = 1500
_next = random.randrange(_BLOCK)


def _worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker[2:]) if worker[2:].isdigit() else 0


def free_port() -> int:
    """The next bindable port of this worker's block, round-robin: a port comes back only after
    the whole block has been handed out, long after its server stopped."""
    global _next
    start = 20000 + (_worker_index() % 8) * _BLOCK
    for _ in range(_BLOCK):
        port = start + _next
        _next = (_next + 1) % _BLOCK
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port left in this test worker's block")


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the test process owns signals
        pass


@contextmanager
def serve_app(app, *, port: int | None = None, host: str = "127.0.0.1", certificate=None) -> Iterator[str]:
    """Serve ``app`` on ``host`` (a loopback address) until the block ends; yields its base URL.
    With ``certificate`` (tests/support/tls.py) it serves https."""
    port = port or free_port()
    tls = {"ssl_certfile": str(certificate.certfile), "ssl_keyfile": str(certificate.keyfile)} \
        if certificate else {}
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on",
                            access_log=False, proxy_headers=False, **tls)  # as cli.py serves
    server = _Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("test server failed to start")
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start in time")
        time.sleep(0.01)
    try:
        yield f"{'https' if certificate else 'http'}://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
