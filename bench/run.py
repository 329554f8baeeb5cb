"""``make bench``: the hosted token path measured beside its physical limit, the refresh storm,
list latency at scale and memory, each with its own processes on free ports.

    .venv/bin/python bench/run.py [--quick] [--only mint,storm,list,burst] [--postgres URL]

PostgreSQL runs come from ``--postgres`` (or OBFBROKER_BENCH_POSTGRES_URL, else
OBFBROKER_TEST_POSTGRES_URL): a database of its own is created and dropped. Prints tables and
writes everything to ``bench/results/<time>.json``. Never run by ``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from burst import run_burst
from harness import Stack, count_not_connected, cpu_seconds, expire_stored_tokens, rss_mib, sync_engine
from load import Sample, fire, fire_groups

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = RESULTS.parents[1]


# --- databases ---
@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="obfbench-") as folder:
        yield f"sqlite:///{folder}/bench.db"


@contextmanager
def postgres_database(base_url: str) -> Iterator[str]:
    import psycopg

    admin = base_url.replace("postgresql+psycopg://", "postgresql://", 1)
    name = f"obfbench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def databases(args) -> list[tuple[str, Any]]:
    found = [("sqlite", sqlite_database())] if "sqlite" in args.backends else []
    if args.postgres and "postgresql" in args.backends:
        found.append(("postgresql", postgres_database(args.postgres)))
    return found


# --- hosted mint vs the direct call ---
def token_request(spec: dict[str, Any], base: str) -> tuple[str, dict[str, str], dict[str, str]]:
    return (f"{base}/token-server/zoom/obf",
            {"X-Bot-Id": spec["bot_id"], "X-Webhook-Secret": spec["bot_secret"]},
            {"meeting_number": str(spec["meeting_number"])})


def link_request(url: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """A Meeting BaaS bot's call to a token link (its bot_id appended; the link names the meeting)."""
    base, _, query = url.partition("?")
    return base, {}, {**dict(parse_qsl(query)), "bot_id": "6f1c9e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b"}


# Token links the link arm cycles through: one link per bot is the usual shape, and Zoom's pacing
# calls one at most about 35 times in 20 minutes, so each link here is called about as often as a
# busy one is (its rate window, counted on every call, as full as it gets in real use).
LINKS_PER_ARM = 600


def mint_matrix(backend: str, database_url: str, args) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    unlimited = {"OBFBROKER_TOKEN_LINK_CALLS_PER_MINUTE": "100000"}
    with Stack(database_url, serve_count=2, extra_env=unlimited) as stack:
        customer = stack.new_customer()
        users = asyncio.run(stack.connect_many(customer, 1))
        spec = asyncio.run(stack.bots_for(customer, users))[0]
        count = 60 if args.quick else LINKS_PER_ARM
        links = asyncio.run(stack.token_links(customer, users[0], str(spec["meeting_number"]), count))
        access_token, meeting = stack.direct_access_token(customer)
        direct = [(f"{stack.sim.url}/v2/users/me/token", {"Authorization": f"Bearer {access_token}"},
                   {"type": "onbehalf", "meeting_id": meeting})]
        one, two = (token_request(spec, s.url) for s in stack.serves)
        arms = {"direct call to Zoom (the limit)": ([direct[0]], []),
                "obfbroker, 1 serve": ([one], stack.serves[:1]),
                "obfbroker, 2 serve": ([one, two], stack.serves),
                "token link, 1 serve": ([link_request(url) for url in links], stack.serves[:1])}
        for latency in args.latencies:
            stack.faults(latency_ms=latency)
            for concurrency in args.concurrencies:
                per_round = args.requests if concurrency > 1 else max(10, args.requests // 6)
                for requests, _ in arms.values():  # warm up connections and caches
                    asyncio.run(fire(requests, min(50, per_round), concurrency))
                samples = {arm: Sample() for arm in arms}
                cpu = dict.fromkeys(arms, 0.0)
                for _ in range(args.rounds):  # interleaved, so drift hits every arm alike
                    for arm, (requests, serves) in arms.items():
                        before = sum(cpu_seconds(s.pid) for s in serves)
                        samples[arm].add(asyncio.run(fire(requests, per_round, concurrency)))
                        cpu[arm] += sum(cpu_seconds(s.pid) for s in serves) - before
                for arm, sample in samples.items():
                    minted = len(sample.latencies)
                    rows.append({"backend": backend, "latency_ms": latency, "concurrency": concurrency,
                                 "arm": arm, **sample.summary(),
                                 "serve_cpu_ms_per_mint": round(cpu[arm] * 1000 / minted, 2)
                                 if arms[arm][1] and minted else None})
                print_rows(rows[-len(arms):])
        stack.faults()
        rss = {s.name: round(rss_mib(s.pid), 1) for s in stack.serves}
    rows.append({"backend": backend, "arm": "rss", "serve_rss_mib": rss})
    return rows


def print_rows(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        cpu = row["serve_cpu_ms_per_mint"]
        print(f"  {row['backend']:<10} {row['latency_ms']:>3} ms  c={row['concurrency']:<3} "
              f"{row['arm']:<32} p50 {row['p50_ms']:7.1f}  p95 {row['p95_ms']:7.1f}  "
              f"{row['per_second']:7.1f}/s  cpu/mint {'-' if cpu is None else f'{cpu:.2f} ms':>8}  "
              f"failures {row['failures']}", flush=True)


# --- the refresh storm ---
def refresh_storm(database_url: str, args) -> dict[str, Any]:
    count, burst = args.storm_connections, 20
    # PostgreSQL allows 100 clients by default: four processes with pools of at most 20 fit.
    pools = {"OBFBROKER_DATABASE_POOL_SIZE": "8", "OBFBROKER_DATABASE_MAX_OVERFLOW": "12"}
    with Stack(database_url, serve_count=4, extra_env=pools) as stack:
        customer = stack.new_customer()
        users = asyncio.run(stack.connect_many(customer, count))
        specs = asyncio.run(stack.bots_for(customer, users))
        expire_stored_tokens(database_url, customer.account_id)
        for user_id in users:  # and at Zoom: the old access tokens die too
            stack.sim_post(f"/_sim/users/{user_id}/expire-tokens")
        before = stack.sim_stats()
        groups = [[token_request(spec, stack.serves[(i + j) % len(stack.serves)].url) for j in range(burst)]
                  for i, spec in enumerate(specs)]
        sample = asyncio.run(fire_groups(groups, groups_in_flight=8))
        after = stack.sim_stats()
        errors = sum(len(s.errors()) for s in stack.serves)
        disconnected = count_not_connected(database_url, customer.account_id)
    result = {"connections": count, "mints_per_connection": burst, "serve_processes": 4,
              **sample.summary(), "refreshes": after["refreshes"] - before["refreshes"],
              "invalid_grant": after["invalid_grant"] - before["invalid_grant"],
              "disconnected": disconnected, "logged_errors": errors}
    print(f"  refresh storm: {count} expired connections x {burst} concurrent mints over 4 serve: "
          f"refreshes {result['refreshes']} (want {count}), failures {result['failures']}, "
          f"disconnected {disconnected}, logged errors {errors}, {result['per_second']}/s, "
          f"p95 {result['p95_ms']} ms, "
          f"statuses {result['statuses']}", flush=True)
    return result


# --- list and filter latency at scale ---
def seed_connections(database_url: str, account_id: str, start: int, count: int) -> None:
    """``count`` connections written straight to the database (the API would take minutes):
    every tenth disconnected, five Zoom accounts and five `team` values (indexed as the service
    indexes metadata), so every query below fills its page of 100 at every size."""
    from sqlalchemy import text

    from obfbroker.connections.models import ConnectionMetadataEntry, ZoomConnection
    from obfbroker.db.base import new_id

    engine = sync_engine(database_url)
    first = datetime(2026, 1, 1, tzinfo=UTC)
    future = datetime(2100, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        for chunk in range(start, start + count, 5000):
            connections, entries = [], []
            for i in range(chunk, min(chunk + 5000, start + count)):
                at = first + timedelta(seconds=i)
                connection_id = new_id("conn")
                email = f"user{i:06d}@{'example' if i % 2 else 'corp'}.com"
                connections.append({
                    "id": connection_id, "account_id": account_id, "zoom_user_id": f"U{i:07d}",
                    "zoom_account_id": f"za{i % 5}", "email": email, "email_lower": email,
                    "display_name": f"User {i}", "metadata_": {"team": f"t{i % 5}"},
                    "state": "disconnected" if i % 10 == 0 else "connected", "client_id": "bench",
                    "scopes": "", "token_generation": 1, "next_keepalive_at": future,
                    "created_at": at, "updated_at": at})
                entries.append({"id": new_id("cmeta"), "connection_id": connection_id,
                                "account_id": account_id, "key": "team", "value": f"t{i % 5}",
                                "created_at": at})
            conn.execute(ZoomConnection.__table__.insert(),
                         [{("metadata" if k == "metadata_" else k): v for k, v in row.items()}
                          for row in connections])
            conn.execute(ConnectionMetadataEntry.__table__.insert(), entries)
        conn.execute(text("ANALYZE"))
    engine.dispose()


def list_scale(backend: str, database_url: str, args) -> list[dict[str, Any]]:
    import httpx

    rows: list[dict[str, Any]] = []
    with Stack(database_url, serve_count=1, with_worker=True) as stack:
        customer = stack.new_customer()
        headers = {"Authorization": f"Token {customer.api_key}"}
        url = f"{stack.serves[0].url}/api/v1/zoom/oauth/connections"
        seeded = 0
        for size in args.list_sizes:
            seed_connections(database_url, customer.account_id, seeded, size - seeded)
            seeded = size
            cursor = None
            for _ in range(10):  # walk ten pages in: the cursor of a page deep in the list
                cursor = httpx.get(url, headers=headers, params={"limit": 100, **(
                    {"cursor": cursor} if cursor else {})}, timeout=60).json()["next_cursor"]
            queries = {"first page": {"limit": "100"},
                       "11th page (cursor)": {"limit": "100", "cursor": cursor},
                       "state=disconnected": {"limit": "100", "state": "disconnected"},
                       "email prefix": {"limit": "100", "email": "user0001"},
                       "metadata.team": {"limit": "100", "metadata.team": "t2"},
                       "zoom_account_id": {"limit": "100", "zoom_account_id": "za3"}}
            for name, params in queries.items():
                sample = asyncio.run(fire([(url, headers, params)], args.list_requests, 1))
                rows.append({"backend": backend, "connections": size, "query": name, **sample.summary()})
                print(f"  {backend:<10} {size:>7} connections  {name:<20} p50 {rows[-1]['p50_ms']:7.1f} ms  "
                      f"p95 {rows[-1]['p95_ms']:7.1f} ms  failures {rows[-1]['failures']}", flush=True)
        time.sleep(2)
        rows.append({"backend": backend, "query": "rss",
                     "serve_rss_mib": round(rss_mib(stack.serves[0].pid), 1),
                     "worker_rss_mib": round(rss_mib(stack.worker.pid), 1)})
        print(f"  {backend:<10} RSS after {seeded} connections: serve {rows[-1]['serve_rss_mib']} MiB, "
              f"worker {rows[-1]['worker_rss_mib']} MiB", flush=True)
    return rows


def measured_commit() -> str:
    """The commit this checkout is at, marked when files git tracks differ from it."""
    executable = shutil.which("git")

    def git(*args: str) -> str:
        if executable is None:
            return ""
        done = subprocess.run([executable, *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short=12", "HEAD") or "unknown (not a git checkout)"
    changed = git("status", "--porcelain", "--untracked-files=no")
    return commit + (" with uncommitted changes" if changed else "")


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "load_average": os.getloadavg(), "python": platform.python_version(),
            "platform": platform.platform(), "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": measured_commit()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of every part")
    parser.add_argument("--only", default="mint,storm,list,burst")
    parser.add_argument("--postgres", default=os.environ.get("OBFBROKER_BENCH_POSTGRES_URL")
                        or os.environ.get("OBFBROKER_TEST_POSTGRES_URL"))
    parser.add_argument("--latencies", default="0,50", help="upstream latencies (ms) for the mint matrix")
    parser.add_argument("--concurrencies", default="1,16,64")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    quick = args.quick
    args.latencies = [int(v) for v in args.latencies.split(",")]
    args.concurrencies = [int(v) for v in args.concurrencies.split(",")]
    args.rounds = 2 if quick else 4
    args.requests = 60 if quick else 300
    args.storm_connections = 40 if quick else 500
    args.list_sizes = [1000, 5000] if quick else [1000, 10_000, 100_000]
    args.list_requests = 10 if quick else 30
    args.burst_connections = 100 if quick else 1000
    args.burst_window = 5.0
    parts = set(args.only.split(","))
    report: dict[str, Any] = {"machine": machine(), "quick": quick, "mint": [], "storm": None, "list": [],
                              "burst": None}
    if not args.postgres:
        print("PostgreSQL not configured (--postgres or OBFBROKER_BENCH_POSTGRES_URL): "
              "SQLite only, no refresh storm and no burst", flush=True)
    started = time.monotonic()
    if "mint" in parts:
        print("hosted OBF mint vs a direct call to Zoom's token endpoint (simulator in its own process)")
        for backend, database in databases(args):
            with database as url:
                report["mint"] += mint_matrix(backend, url, args)
    if "storm" in parts and args.postgres:
        print("refresh storm (PostgreSQL)")
        with postgres_database(args.postgres) as url:
            report["storm"] = refresh_storm(url, args)
    if "burst" in parts and args.postgres:
        print("the top-of-the-hour burst (PostgreSQL, two serve processes, direct calls beside it)")
        with postgres_database(args.postgres) as url:
            report["burst"] = run_burst(url, args)
    if "list" in parts:
        print("list and filter latency by size (one serve, concurrency 1)")
        for backend, database in databases(args):
            with database as url:
                report["list"] += list_scale(backend, url, args)
    report["seconds"] = round(time.monotonic() - started, 1)
    report["machine"]["load_average_after"] = os.getloadavg()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}{'-quick' if quick else ''}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"done in {report['seconds']} s; results in {out}")


if __name__ == "__main__":
    main()
