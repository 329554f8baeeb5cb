"""The dashboard as tests serve and use it: ``serve_dashboard`` (the real app on a port chosen
before it starts, so its public URL is its own and the Connect Zoom redirect comes back to it),
``Dashboard`` (that server with helpers that set up tenants, Zoom apps, connections and bots
through the public API, run the worker's webhook round and sign in without a browser),
``Tenant`` (an account with its own Zoom app), and reading its pages: ``csrf_of``,
``key_id_named``; ``off_loop`` runs blocking setup off a Playwright test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from obfbroker.app import create_app
from obfbroker.settings import Settings
from tests.support.http import TLS
from tests.support.servers import free_port, serve_app
from tests.support.sim import REDIRECT_URI, SimApp, SimControl
from tests.support.stack import Stack, make_settings

CALLBACK_PATH = "/dashboard/zoom/callback"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Tenant:
    """An obfbroker account with its own Zoom app configured through the API."""

    name: str
    account_id: str
    api_key: str
    app: SimApp
    api: httpx.Client


@dataclass
class Dashboard:
    url: str
    settings: Settings
    sim: SimControl
    stack: Stack

    @property
    def callback_url(self) -> str:
        return self.url + CALLBACK_PATH

    def sim_app(self) -> SimApp:
        """A Zoom app (in the simulator) that accepts the dashboard's callback."""
        return self.sim.create_app(redirect_uris=[self.callback_url, REDIRECT_URI])

    def tenant(self, name: str, *, configure: bool = True) -> Tenant:
        account_id, key = off_loop(self.stack.create_account, name)
        app = self.sim_app()
        api = self.stack.client(key)
        if configure:
            response = api.put("/api/v1/zoom/oauth/app", json={
                "client_id": app.client_id, "client_secret": app.client_secret,
                "webhook_secret_token": app.webhook_secret_token})
            assert response.status_code == 200, response.text
        return Tenant(name, account_id, key, app, api)

    def connect_via_api(self, tenant: Tenant, user_id: str, metadata: dict[str, Any] | None = None) -> dict:
        """What a customer's own callback does: connection-create with a fresh code."""
        code = self.sim.authorize(tenant.app, user_id, redirect_uri=REDIRECT_URI)
        body: dict[str, Any] = {"code": code, "redirect_uri": REDIRECT_URI}
        if metadata is not None:
            body["metadata"] = metadata
        response = tenant.api.post("/api/v1/zoom/oauth/connections", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def bot_for(self, tenant: Tenant, user_id: str, name: str = "Notes", *, leave: bool = False) -> dict:
        meeting = self.sim._ok(self.sim.http.post("/_sim/meetings", json={"host_user_id": user_id}))
        response = tenant.api.post("/api/v1/bots/create_bot", json={
            "meeting_link": meeting["join_url"], "bot_name": name,
            "zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": user_id}})
        assert response.status_code == 201, response.text
        bot = response.json()
        if leave:
            assert tenant.api.post(f"/api/v1/bots/{bot['bot_id']}/leave").status_code == 202
        return bot

    def connection(self, tenant: Tenant, user_id: str) -> dict:
        response = tenant.api.get(f"/api/v1/zoom/oauth/connections/{user_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def run(self, work):
        """Run ``work(runtime)`` with a runtime of its own on the dashboard's database."""
        from obfbroker.runtime import Runtime

        async def go():
            runtime = await Runtime.start(self.settings)
            try:
                return await work(runtime)
            finally:
                await runtime.close()

        return off_loop(asyncio.run, go())

    def deliver_webhooks(self) -> None:
        """One round of customer-webhook delivery, as the worker runs it."""
        from obfbroker.webhooks.delivery import deliver_due

        async def work(runtime):
            async with httpx.AsyncClient(verify=TLS) as http:
                return await deliver_due(runtime.deliverer, http)

        self.run(work)

    def browserless(self) -> httpx.Client:
        return httpx.Client(verify=TLS, base_url=self.url, timeout=30, follow_redirects=False)

    def sign_in(self, api_key: str) -> httpx.Client:
        """An httpx client holding a dashboard session (signed in through the form)."""
        client = self.browserless()
        page = client.get("/dashboard/signin")
        response = client.post("/dashboard/signin", data={
            "api_key": api_key, "csrf_token": csrf_of(page.text), "next": "/dashboard/connections"})
        assert response.status_code == 303, response.text
        return client


def off_loop(function, *args):
    """Call ``function`` on a thread of its own: Playwright's sync API keeps an event loop
    running on the test's thread, where ``asyncio.run`` refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


def key_id_named(html: str, name: str) -> str:
    """The id of the API key called ``name`` on the developers page."""
    for row in html.split("<tr>"):
        if f">{name}" in row or f"{name} <span" in row:
            match = re.search(r"/dashboard/developers/keys/(key_[0-9a-f]+)/revoke", row)
            if match:
                return match.group(1)
    raise AssertionError(f"no active key named {name!r} on the page")


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def serve_dashboard(database_url: str, sim: SimControl, **overrides: Any):
    """The app on a port chosen first, its public URL set to that port (unless overridden)."""
    port = free_port()
    overrides.setdefault("public_url", f"http://127.0.0.1:{port}")
    settings = make_settings(database_url, sim, **overrides)
    return settings, serve_app(create_app(settings), port=port)


def mint_zak(dashboard: Dashboard, tenant: Tenant, zoom_user_id: str) -> None:
    """Ask for a ZAK as a bot would; the failure, if any, is recorded on the connection."""
    from sqlalchemy import select

    from obfbroker.connections.models import ZoomConnection
    from obfbroker.errors import ObfError

    async def work(runtime) -> None:
        async with runtime.sessions() as session:
            connection_id = (await session.execute(select(ZoomConnection.id).where(
                ZoomConnection.account_id == tenant.account_id,
                ZoomConnection.zoom_user_id == zoom_user_id))).scalar_one()
        with contextlib.suppress(ObfError):
            await runtime.tokens.mint(connection_id, token_type="zak", meeting_id=None)

    dashboard.run(work)


def row_of(page: str, text: str) -> str:
    """The one table row of ``page`` that holds ``text``."""
    (row,) = [r for r in page.split("<tr>") if text in r]
    return row
