"""Markdown tables from a ``bench/run.py`` result file (what docs/benchmarks.md shows).

    .venv/bin/python bench/report.py bench/results/<time>.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

DIRECT = "direct call to Zoom (the limit)"


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join("-" if v is None else str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def mint_tables(rows: list[dict[str, Any]]) -> str:
    out = []
    cells = [r for r in rows if r.get("arm") != "rss"]
    for backend in dict.fromkeys(r["backend"] for r in cells):
        body = []
        for r in (r for r in cells if r["backend"] == backend):
            limit = next(d for d in cells if d["backend"] == backend and d["arm"] == DIRECT
                         and d["latency_ms"] == r["latency_ms"] and d["concurrency"] == r["concurrency"])
            ratio = "" if r["arm"] == DIRECT else f"{r['p50_ms'] / limit['p50_ms']:.2f}x"
            share = "" if r["arm"] == DIRECT else f"{100 * r['per_second'] / limit['per_second']:.0f}%"
            body.append([r["latency_ms"], r["concurrency"], r["arm"], r["p50_ms"], r["p95_ms"], ratio,
                         r["per_second"], share, r["serve_cpu_ms_per_mint"], r["failures"]])
        out.append(f"**{backend}**\n\n" + table(
            ["Zoom latency ms", "concurrency", "arm", "p50 ms", "p95 ms", "p50 / limit", "tokens/s",
             "of the limit", "serve CPU ms per mint", "failures"], body))
    rss = [r for r in rows if r.get("arm") == "rss"]
    if rss:
        out.append(table(["backend", "serve RSS after the mint runs (MiB)"],
                         [[r["backend"], ", ".join(f"{k} {v}" for k, v in r["serve_rss_mib"].items())]
                          for r in rss]))
    return "\n\n".join(out)


def storm_table(storm: dict[str, Any]) -> str:
    keys = ["connections", "mints_per_connection", "serve_processes", "requests", "failures",
            "refreshes", "invalid_grant", "disconnected", "logged_errors", "per_second", "p50_ms", "p95_ms"]
    return table(keys, [[storm.get(k) for k in keys]])


def burst_tables(burst: dict[str, Any]) -> str:
    """The burst: obfbroker beside the direct call, by kind of call, and what Zoom saw."""
    rows = [["obfbroker, all calls", *_figures(burst["obfbroker"])],
            ["direct call to Zoom (the limit)", *_figures(burst["direct"])]]
    rows += [[f"obfbroker, {kind}", *_figures(f)] for kind, f in burst["by_kind"].items()]
    rows += [["obfbroker, expired access token", *_figures(burst["expired_connections"])],
             ["obfbroker, fresh access token", *_figures(burst["fresh_connections"])]]
    latency = table(["calls", "requests", "failures", "p50 ms", "p95 ms", "p99 ms"], rows)
    keys = ["connections", "expired", "arrival_spread_seconds", "p99_ratio", "refreshes", "failed_mints",
            "disconnected", "invalid_grant", "zoom_429s", "direct_retries", "logged_errors"]
    return latency + "\n\n" + table(keys, [[burst.get(k) for k in keys]])


def _figures(f: dict[str, Any]) -> list[Any]:
    return [f["requests"], f["failures"], f["p50_ms"], f["p95_ms"], f["p99_ms"]]


def list_tables(rows: list[dict[str, Any]]) -> str:
    out = []
    cells = [r for r in rows if r.get("query") != "rss"]
    for backend in dict.fromkeys(r["backend"] for r in cells):
        sizes = list(dict.fromkeys(r["connections"] for r in cells if r["backend"] == backend))
        queries = list(dict.fromkeys(r["query"] for r in cells if r["backend"] == backend))
        body = []
        for query in queries:
            p50 = {r["connections"]: r["p50_ms"] for r in cells
                   if r["backend"] == backend and r["query"] == query}
            body.append([query, *(p50[s] for s in sizes), f"{p50[sizes[-1]] / p50[sizes[0]]:.2f}x"])
        out.append(f"**{backend}** (p50 ms, concurrency 1)\n\n" + table(
            ["query", *(f"{s:,} connections" for s in sizes), f"{sizes[-1]:,} / {sizes[0]:,}"], body))
    rss = [r for r in rows if r.get("query") == "rss"]
    if rss:
        out.append(table(["backend", "serve RSS (MiB)", "worker RSS (MiB)"],
                         [[r["backend"], r["serve_rss_mib"], r["worker_rss_mib"]] for r in rss]))
    return "\n\n".join(out)


def main() -> None:
    report = json.loads(Path(sys.argv[1]).read_text())
    machine = report["machine"]
    print(f"Commit {machine.get('commit', 'not recorded')}; "
          f"{machine['cpus']} CPUs, Python {machine['python']}, {machine['platform']}; load average "
          f"{', '.join(f'{v:.2f}' for v in machine['load_average'])} before, "
          f"{', '.join(f'{v:.2f}' for v in machine['load_average_after'])} after; "
          f"started {machine['started']}, {report['seconds']} s in all.\n")
    if report["mint"]:
        print("### Hosted mint vs the direct call\n\n" + mint_tables(report["mint"]) + "\n")
    if report["storm"]:
        print("### Refresh storm (PostgreSQL)\n\n" + storm_table(report["storm"]) + "\n")
    if report.get("burst"):
        print("### The top-of-the-hour burst (PostgreSQL)\n\n" + burst_tables(report["burst"]) + "\n")
    if report["list"]:
        print("### List and filter latency\n\n" + list_tables(report["list"]) + "\n")


if __name__ == "__main__":
    main()
