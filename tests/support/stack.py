"""The obfbroker API as tests reach it: ``Stack`` (the API served on loopback, its settings and
the simulator it talks to, with clients and new accounts on it), ``make_settings`` (the settings
every test server starts from: a test database, the simulator as Zoom, pools sized for the shared
PostgreSQL) and ``unique`` (a name no other test uses)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

import httpx

from obfbroker.settings import Settings
from tests.support.databases import TEST_KEY
from tests.support.http import TLS
from tests.support.sim import SimControl


@dataclass
class Stack:
    """The API served on loopback, talking to the simulator."""

    url: str
    settings: Settings
    sim: SimControl

    def client(self, api_key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Token {api_key}"} if api_key else {}
        return httpx.Client(verify=TLS, base_url=self.url, headers=headers, timeout=30)

    def create_account(self, name: str = "test") -> tuple[str, str]:
        from obfbroker.accounts.service import create_account
        from obfbroker.db.session import transaction
        from obfbroker.runtime import Runtime

        async def work() -> tuple[str, str]:
            runtime = await Runtime.start(self.settings)
            try:
                async with transaction(runtime.sessions) as session:
                    account, key = await create_account(session, runtime.hasher, name=name,
                                                            now=runtime.clock.now())
                    return account.id, key
            finally:
                await runtime.close()

        return asyncio.run(work())


def make_settings(database_url: str, sim: SimControl, **overrides) -> Settings:
    values = dict(database_url=database_url, encryption_keys=TEST_KEY,
                  zoom_oauth_url=sim.url, zoom_api_url=f"{sim.url}/v2",
                  public_url="http://127.0.0.1:8000", zoom_timeout_seconds=5,
                  # Four test workers, their servers and the e2e processes share one PostgreSQL
                  # (max_connections 100): pools of at most 20 keep them under it at their usual peaks (a
                  # request that owns an Idempotency-Key holds two for a moment: its own and the claim's).
                  database_pool_size=5, database_max_overflow=15,
                  # The tests' webhook receivers and token servers listen on loopback over plain
                  # http: this deployment allows that host, as `obfbroker dev` allows its ports.
                  outbound_allowed_hosts="127.0.0.1")
    values.update(overrides)
    return Settings(**values)


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"
