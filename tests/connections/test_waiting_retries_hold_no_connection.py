"""Retries of one connection-create that wait for the first attempt hold no pooled database
connection while they wait: ten of them, on a server whose pool has two connections and no
overflow, while Zoom takes a second and a half to answer the first, all get its connection."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from obfbroker.app import create_app
from tests.support.customers import make_customer
from tests.support.http import TLS
from tests.support.servers import serve_app
from tests.support.sim import REDIRECT_URI
from tests.support.stack import Stack, make_settings

PARALLEL = 10


async def post_all(url: str, api_key: str, body: dict) -> list[httpx.Response]:
    headers = {"Authorization": f"Token {api_key}", "Idempotency-Key": "create-alice-once"}
    limits = httpx.Limits(max_connections=PARALLEL)
    async with httpx.AsyncClient(verify=TLS, timeout=60, limits=limits) as client:
        return await asyncio.gather(*(client.post(f"{url}/api/v1/zoom/oauth/connections", json=body,
                                                  headers=headers) for _ in range(PARALLEL)))


@pytest.mark.parametrize("fresh_database_url", ["postgresql"], indirect=True)  # a real pool limit
def test_ten_waiting_retries_fit_in_a_pool_of_two(fresh_database_url: str, sim):
    settings = make_settings(fresh_database_url, sim, database_pool_size=2, database_max_overflow=0)
    with serve_app(create_app(settings)) as url:
        customer = make_customer(Stack(url=url, settings=settings, sim=sim))
        alice = sim.create_user("Alice")
        body = {"code": sim.authorize(customer.app, alice["id"]), "redirect_uri": REDIRECT_URI}
        sim.faults(latency_ms=1500)
        try:
            answers = asyncio.run(post_all(url, customer.api_key, body))
        finally:
            sim.faults(latency_ms=0)
    assert [a.status_code for a in answers] == [200] * PARALLEL, [a.text[:200] for a in answers]
    assert {a.json()["zoom_user_id"] for a in answers} == {alice["id"]}
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == PARALLEL - 1
