"""The load generator: a fixed number of requests at a fixed concurrency over keep-alive
connections, with latency percentiles. One asyncio loop; the servers run in other processes."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

# A request: (url, headers, query). The generator cycles through them in order.
Request = tuple[str, dict[str, str], dict[str, str]]


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    elapsed: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)

    def add(self, other: Sample) -> None:
        self.latencies += other.latencies
        self.failures += other.failures
        self.elapsed += other.elapsed
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    def summary(self) -> dict[str, float]:
        done = len(self.latencies)
        return {"requests": done + self.failures, "failures": self.failures,
                "p50_ms": round(self.pct(0.50), 1), "p95_ms": round(self.pct(0.95), 1),
                "p99_ms": round(self.pct(0.99), 1),
                "mean_ms": round(statistics.fmean(self.latencies) * 1000, 1) if done else float("nan"),
                "per_second": round(done / self.elapsed, 1) if self.elapsed else 0.0,
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())}}


async def _send(client: httpx.AsyncClient, request: Request, sample: Sample,
                ok: Callable[[httpx.Response], bool]) -> None:
    """One request, its outcome and (when ``ok``) its latency added to ``sample``."""
    url, headers, params = request
    started = time.perf_counter()
    try:
        response = await client.get(url, headers=headers, params=params)
    except httpx.HTTPError:
        sample.failures += 1
        return
    took = time.perf_counter() - started
    sample.statuses[response.status_code] = sample.statuses.get(response.status_code, 0) + 1
    if ok(response):
        sample.latencies.append(took)
    else:
        sample.failures += 1


def _status_200(response: httpx.Response) -> bool:
    return response.status_code == 200


async def fire(requests: Sequence[Request], total: int, concurrency: int,
               ok: Callable[[httpx.Response], bool] = _status_200) -> Sample:
    """Send ``total`` requests, ``concurrency`` at a time, cycling through ``requests``."""
    sample = Sample()
    todo = iter(range(total))
    cycle = itertools.cycle(requests)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        async def worker() -> None:
            for _ in todo:
                await _send(client, next(cycle), sample, ok)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        sample.elapsed = time.perf_counter() - started
    return sample


async def fire_groups(groups: Sequence[Sequence[Request]], groups_in_flight: int) -> Sample:
    """Every request of a group sent at once (a burst of mints for one connection),
    ``groups_in_flight`` groups at a time: a group starts as an earlier one finishes."""
    sample = Sample()
    semaphore = asyncio.Semaphore(groups_in_flight)
    connections = groups_in_flight * max((len(g) for g in groups), default=1)
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        async def group(requests: Sequence[Request]) -> None:
            async with semaphore:  # one slot per group: its requests go together
                await asyncio.gather(*(_send(client, r, sample, _status_200) for r in requests))

        started = time.perf_counter()
        await asyncio.gather(*(group(g) for g in groups))
        sample.elapsed = time.perf_counter() - started
    return sample
