"""Dashboard fixtures: the real app on a port fixed before it starts, so OBFBROKER_PUBLIC_URL
is its own URL (the Connect Zoom redirect comes back to it), the simulator, a headless browser
and a customer's webhook endpoint. The helpers that set up accounts, Zoom apps, connections and
bots through the public API are in tests/support/dashboard.py; what pages are checked with, in
tests/support/screenshots.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import chromium
from tests.support.dashboard import Dashboard, serve_dashboard
from tests.support.screenshots import DESKTOP
from tests.support.servers import serve_app
from tests.support.sim import SimControl
from tests.support.stack import Stack
from tests.support.webhook_receivers import CountingReceiver


@pytest.fixture
def dashboard(database_url: str, sim: SimControl) -> Iterator[Dashboard]:
    settings, server = serve_dashboard(database_url, sim)
    with server as url:
        yield Dashboard(url, settings, sim, Stack(url=url, settings=settings, sim=sim))


# -- the browser --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium driven by Python Playwright, once per test module."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def new_page(browser) -> Iterator[Any]:
    """Pages in fresh browser contexts (own cookies), closed at the end of the test."""
    contexts = []

    def make(viewport: dict[str, int] | None = None):
        context = browser.new_context(viewport=viewport or DESKTOP)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


# -- a customer's webhook endpoint ----------------------------------------------------------------

@pytest.fixture
def receiver() -> Iterator[CountingReceiver]:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    recv = CountingReceiver()

    async def handle(request: Request) -> Response:
        await request.body()
        recv.received += 1
        return Response("ok" if recv.status < 300 else "try later", status_code=recv.status)

    with serve_app(Starlette(routes=[Route("/hooks/obf", handle, methods=["POST"])])) as url:
        recv.url = f"{url}/hooks/obf"
        yield recv
