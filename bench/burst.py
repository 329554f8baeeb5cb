"""The top-of-the-hour burst (``make bench``'s ``burst`` part).

At the top of the hour many bots join at once. 1,000 connections, half of them holding expired
access tokens, get one mint each: half through hosted bots (``/token-server/zoom/obf``), half
through token links of the four platforms (each platform's call, as its bot makes it), arriving
at random moments within 5 seconds (open loop: a call starts at its moment whatever the others
are doing), alternating between two ``serve`` processes on PostgreSQL. The simulator answers
after 50 ms and answers 5% of Zoom calls 429 with ``Retry-After``.

Beside it, in the same 5 seconds and so under the same load, the bench makes 1,000 direct calls
to Zoom's token endpoint with fresh access tokens of its own, retrying a 429 after its
``Retry-After`` as obfbroker does: the limit a caller holding a fresh token could reach.

It reports p50/p99 of both, the refreshes Zoom saw (exactly one per expired connection), the
failed mints and the disconnected connections (both must be 0).
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import httpx
from harness import Stack, count_not_connected, expire_stored_tokens
from load import Sample

from obfbroker.token_links.platforms import attendee_key, attendee_signature

PLATFORMS = ("meetstream", "recall", "meetingbaas", "attendee")
WINDOW_SECONDS = 5.0
LATENCY_MS = 50
RATE_429 = 0.05
DIRECT_USERS = 20
RETRIES = 4  # obfbroker's own rule (connections/retry.py): 4 attempts, Retry-After when short


@dataclass(frozen=True)
class Call:
    """One request of the burst: what it is (``hosted``, a platform, or ``direct``), whether its
    connection's access token is expired, and the request itself."""

    kind: str
    expired: bool
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None = None


def hosted_call(spec: dict[str, Any], base: str, expired: bool) -> Call:
    query = urlencode({"meeting_number": spec["meeting_number"]})
    return Call("hosted", expired, "GET", f"{base}/token-server/zoom/obf?{query}",
                {"X-Bot-Id": spec["bot_id"], "X-Webhook-Secret": spec["bot_secret"]})


def link_call(platform: str, link: dict[str, Any], meeting: dict[str, Any], expired: bool,
              attendee_secret: str) -> Call:
    """A platform's bot calling its token link (docs/platforms.md), with its own bot id."""
    bot_id = f"{platform}-bot-{secrets.token_hex(4)}"
    urls = link["urls"]
    if platform == "meetstream":
        return Call(platform, expired, "GET", f"{urls['obf']}&meeting_number={meeting['meeting_number']}",
                    {"X-Bot-Id": bot_id})
    if platform == "recall":
        return Call(platform, expired, "GET", urls["obf"], {})
    if platform == "meetingbaas":
        query = urlencode({"bot_id": bot_id, "extra": "{}"})
        return Call(platform, expired, "GET", f"{urls['obf']}&{query}", {})
    body = {"bot_id": bot_id, "bot_metadata": None, "callback_type": "zoom_tokens",
            "meeting_url": meeting["join_url"]}
    signature = attendee_signature(body, attendee_key(attendee_secret))  # what Attendee sends
    return Call(platform, expired, "POST", urls["tokens"],
                {"Content-Type": "application/json", "X-Webhook-Signature": signature},
                json.dumps(body).encode())


async def token_links(stack: Stack, api_key: str, user_ids: Sequence[str], expired: set[str],
                      concurrency: int = 16) -> list[Call]:
    """One link per user, the platforms in turn, each bound to a meeting its user hosts and
    minting the OBF token only (one mint a call, Attendee's included)."""
    semaphore = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Token {api_key}"}
    attendee_secret = base64.b64encode(secrets.token_bytes(32)).decode()
    async with httpx.AsyncClient(timeout=60) as http:
        async def one(i: int, user_id: str) -> Call:
            platform = PLATFORMS[i % len(PLATFORMS)]
            async with semaphore:
                meeting = (await http.post(f"{stack.sim.url}/_sim/meetings",
                                           json={"host_user_id": user_id})).json()
                body = {"zoom_user_id": user_id, "platform": platform, "meeting_link": meeting["join_url"],
                        "token_types": ["onbehalf"],
                        **({"platform_secret": attendee_secret} if platform == "attendee" else {})}
                response = await http.post(f"{stack.serves[0].url}/api/v1/zoom/token-links",
                                           headers=headers, json=body)
                response.raise_for_status()
            return link_call(platform, response.json(), meeting, user_id in expired, attendee_secret)

        return list(await asyncio.gather(*(one(i, u) for i, u in enumerate(user_ids))))


def direct_calls(stack: Stack, customer: Any, count: int) -> list[Call]:
    """``count`` direct calls to Zoom's OBF endpoint, over ``DIRECT_USERS`` users the bench
    connected itself (fresh access tokens), each for a meeting its user hosts."""
    grants = [stack.direct_access_token(customer) for _ in range(DIRECT_USERS)]
    calls = []
    for i in range(count):
        access_token, meeting = grants[i % len(grants)]
        query = urlencode({"type": "onbehalf", "meeting_id": meeting})
        calls.append(Call("direct", False, "GET", f"{stack.sim.url}/v2/users/me/token?{query}",
                          {"Authorization": f"Bearer {access_token}"}))
    return calls


@dataclass
class Outcome:
    call: Call
    seconds: float | None  # None: failed
    status: int | None
    attempts: int = 1


async def _send(http: aiohttp.ClientSession, call: Call) -> Outcome:
    started = time.perf_counter()
    attempts = 0
    while True:
        attempts += 1
        try:
            async with http.request(call.method, call.url, headers=call.headers, data=call.body) as response:
                body = await response.read()
                status, retry_after = response.status, response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError):
            return Outcome(call, None, None, attempts)
        # Only the direct caller retries: obfbroker retries Zoom's 429 itself, and a bot gets
        # its answer (a failure here is a failure).
        if call.kind == "direct" and status == 429 and attempts < RETRIES and retry_after \
                and float(retry_after) <= 4:
            await asyncio.sleep(float(retry_after))
            continue
        took = time.perf_counter() - started
        return Outcome(call, took if status == 200 and body else None, status, attempts)


async def fire_burst(calls: Sequence[Call], window: float, seed: int = 7) -> tuple[list[Outcome], float]:
    """Start each call at a random moment within ``window`` seconds (open loop); the outcomes
    and the seconds between the first and the last start."""
    draw = random.Random(seed)
    moments = sorted(draw.uniform(0, window) for _ in calls)
    order = list(calls)
    draw.shuffle(order)
    starts: list[float] = []
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as http:
        began = time.perf_counter()

        async def at(moment: float, call: Call) -> Outcome:
            await asyncio.sleep(max(0.0, began + moment - time.perf_counter()))
            starts.append(time.perf_counter())
            return await _send(http, call)

        outcomes = await asyncio.gather(*(at(m, c) for m, c in zip(moments, order, strict=True)))
    return list(outcomes), max(starts) - min(starts)


def _sample(outcomes: Sequence[Outcome], keep: Callable[[Outcome], bool] = lambda _: True) -> Sample:
    sample = Sample()
    for outcome in outcomes:
        if not keep(outcome):
            continue
        if outcome.status is not None:
            sample.statuses[outcome.status] = sample.statuses.get(outcome.status, 0) + 1
        if outcome.seconds is None:
            sample.failures += 1
        else:
            sample.latencies.append(outcome.seconds)
    return sample


def _figures(sample: Sample) -> dict[str, Any]:
    summary = sample.summary()
    return {key: summary[key] for key in ("requests", "failures", "p50_ms", "p95_ms", "p99_ms", "statuses")}


def run_burst(database_url: str, args: Any) -> dict[str, Any]:
    count = args.burst_connections
    # Two processes with PostgreSQL's default 100 connections: 10 + 20 each leaves room for the bench.
    with Stack(database_url, serve_count=2) as stack:
        customer = stack.new_customer()
        users = asyncio.run(stack.connect_many(customer, count))
        hosted_users, link_users = users[0::2], users[1::2]
        # Half of each kind expired: every other hosted bot's user, and every other link of each
        # platform (the platforms take turns; the first link is expired for two of them).
        expired = {user for i, user in enumerate(hosted_users) if i % 2 == 0} | {
            user for i, user in enumerate(link_users) if (i // len(PLATFORMS) + i % len(PLATFORMS)) % 2 == 0}
        specs = asyncio.run(stack.bots_for(customer, hosted_users))
        calls = [hosted_call(spec, stack.serves[i % 2].url, user in expired)
                 for i, (spec, user) in enumerate(zip(specs, hosted_users, strict=True))]
        links = asyncio.run(token_links(stack, customer.api_key, link_users, expired))
        # Token links alternate between the processes too (a link's URL names the first one).
        first, second = stack.serves[0].url, stack.serves[1].url
        calls += [link if i % 2 == 0 else Call(link.kind, link.expired, link.method,
                                               link.url.replace(first, second, 1), link.headers, link.body)
                  for i, link in enumerate(links)]
        direct = direct_calls(stack, customer, count)
        expire_stored_tokens(database_url, customer.account_id, zoom_user_ids=expired)
        for user_id in expired:  # and at Zoom: the old access tokens die too
            stack.sim_post(f"/_sim/users/{user_id}/expire-tokens")
        stack.faults(latency_ms=LATENCY_MS, rate_429=RATE_429)
        before = stack.sim_stats()
        started = time.monotonic()
        outcomes, spread = asyncio.run(fire_burst(calls + direct, args.burst_window))
        seconds = time.monotonic() - started
        after = stack.sim_stats()
        stack.faults()
        errors = sum(len(s.errors()) for s in stack.serves)
        disconnected = count_not_connected(database_url, customer.account_id)
    ours = [o for o in outcomes if o.call.kind != "direct"]
    mine = _sample(ours)
    limit = _sample(outcomes, lambda o: o.call.kind == "direct")
    result = {
        "connections": count, "expired": len(expired), "serve_processes": 2,
        "window_seconds": args.burst_window, "arrival_spread_seconds": round(spread, 2),
        "seconds": round(seconds, 2), "zoom_latency_ms": LATENCY_MS, "zoom_429_rate": RATE_429,
        "obfbroker": _figures(mine), "direct": _figures(limit),
        "p99_ratio": round(mine.pct(0.99) / limit.pct(0.99), 2)
        if limit.latencies and mine.latencies else None,
        "by_kind": {kind: _figures(_sample(ours, lambda o, k=kind: o.call.kind == k))
                    for kind in ("hosted", *PLATFORMS)},
        "expired_connections": _figures(_sample(ours, lambda o: o.call.expired)),
        "fresh_connections": _figures(_sample(ours, lambda o: not o.call.expired)),
        "refreshes": after["refreshes"] - before["refreshes"],
        "invalid_grant": after["invalid_grant"] - before["invalid_grant"],
        "zoom_429s": after["faults_429"] - before["faults_429"],
        "direct_retries": sum(o.attempts - 1 for o in outcomes if o.call.kind == "direct"),
        "failed_mints": mine.failures, "disconnected": disconnected, "logged_errors": errors,
    }
    print_burst(result)
    return result


def print_burst(result: dict[str, Any]) -> None:
    ours, direct = result["obfbroker"], result["direct"]
    print(f"  burst: {result['connections']} connections ({result['expired']} expired), one mint each, "
          f"hosted and token links over 2 serve, arriving within {result['arrival_spread_seconds']} s; "
          f"Zoom {result['zoom_latency_ms']} ms, {result['zoom_429_rate']:.0%} 429", flush=True)
    print(f"    obfbroker p50 {ours['p50_ms']} ms  p99 {ours['p99_ms']} ms  | "
          f"direct p50 {direct['p50_ms']} ms  p99 {direct['p99_ms']} ms  | "
          f"p99 ratio {result['p99_ratio']}x", flush=True)
    print(f"    refreshes {result['refreshes']} (want {result['expired']}), failed mints "
          f"{result['failed_mints']}, disconnected {result['disconnected']}, "
          f"Zoom 429s {result['zoom_429s']}, invalid_grant {result['invalid_grant']}, "
          f"logged errors {result['logged_errors']}", flush=True)
