"""Benchmark the hot path: bots fetching fresh OBF tokens from the hosted token endpoint.

Starts the Zoom simulator and the API in this process (real HTTP on loopback, SQLite in a temp
folder or the PostgreSQL database given by OBFBROKER_BENCH_DATABASE_URL), connects one user,
creates a bot, then fires requests at /token-server/zoom/obf with a fixed concurrency and prints
throughput and latency percentiles. Every request mints a new single-use token at the simulator.

    .venv/bin/python bench/token_server.py [--requests 2000] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.bots.conftest import launch_spec, new_meeting
from tests.conftest import TEST_KEY, Stack, make_settings
from tests.connections.conftest import make_customer
from tests.support.servers import serve_app
from tests.support.sim import SimControl

from obfbroker.app import create_app
from obfbroker.db.migrate import upgrade
from obfbroker.settings import Settings


async def fire(url: str, spec: dict, total: int, concurrency: int) -> list[float]:
    headers = {"X-Bot-Id": spec["bot_id"], "X-Webhook-Secret": spec["bot_secret"]}
    latencies: list[float] = []
    queue = iter(range(total))
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=concurrency)) as client:
        async def worker() -> None:
            for _ in queue:
                started = time.perf_counter()
                response = await client.get(url, headers=headers,
                                            params={"meeting_number": spec["meeting_number"]})
                response.raise_for_status()
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    from obfbroker.zoomsim.app import create_app as create_sim

    database = os.environ.get("OBFBROKER_BENCH_DATABASE_URL") or \
        f"sqlite:///{tempfile.mkdtemp(prefix='obfbench-')}/bench.db"
    upgrade(Settings(database_url=database, encryption_keys=TEST_KEY))
    sim_app = create_sim()
    with serve_app(sim_app) as sim_url:
        sim = SimControl(sim_url, sim_app)
        settings = make_settings(database, sim)
        with serve_app(create_app(settings)) as api_url:
            stack = Stack(url=api_url, settings=settings, sim=sim)
            customer = make_customer(stack)
            alice = sim.create_user("Alice")
            customer.connect(alice["id"]).raise_for_status()
            meeting = new_meeting(stack, alice["id"])
            bot = customer.api.post("/api/v1/bots/create_bot", json={
                "meeting_link": meeting.join_url,
                "zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": alice["id"]}}).json()
            spec = launch_spec(stack, bot["bot_id"])
            url = f"{api_url}/token-server/zoom/obf"
            asyncio.run(fire(url, spec, 50, 5))  # warm up
            started = time.perf_counter()
            latencies = asyncio.run(fire(url, spec, args.requests, args.concurrency))
            elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    backend = "postgresql" if database.startswith("postgres") else "sqlite"
    print(f"token endpoint ({backend}, {args.concurrency} concurrent, {len(latencies)} requests, "
          f"one process with the simulator)")
    print(f"  throughput  {len(latencies) / elapsed:8.1f} tokens/s")
    print(f"  latency     p50 {pct(0.50):6.1f} ms   p95 {pct(0.95):6.1f} ms   p99 {pct(0.99):6.1f} ms   "
          f"mean {statistics.fmean(latencies) * 1000:6.1f} ms")


if __name__ == "__main__":
    main()
