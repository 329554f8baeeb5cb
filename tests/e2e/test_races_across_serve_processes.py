"""The races that matter in production, across four real ``serve`` processes on one database:
50 simultaneous mints over an expired token cause exactly one refresh (SQLite and PostgreSQL),
and parallel creates with one ``Idempotency-Key`` or one ``deduplication_key`` make one bot
(PostgreSQL, where several processes share a database in production).

The four processes are started once per database for this module: every test brings a customer,
a connection and a meeting of its own, so they do not see each other's rows."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from tests.support.bot_checks import (
    assert_leave_stops_minting_at_once,
    assert_one_bot_for_one_key,
    assert_one_refresh_and_all_minted,
    assert_one_unfinished_bot_per_deduplication_key,
)
from tests.support.bot_scenes import Scene
from tests.support.processes import free_port, spawn, stop, wait_until_ready
from tests.support.token_links import link_scene

PROCESSES = 4
pytestmark = pytest.mark.xdist_group("serve_processes")  # one worker starts the processes


@pytest.fixture(scope="module")
def clusters() -> Iterator[dict[str, list[str]]]:
    started: dict[str, list[str]] = {}
    with ExitStack() as running:
        started["_exit"] = running  # type: ignore[assignment]
        yield started


def serve_processes(on: Scene, clusters: dict) -> list[str]:
    """Four ``serve`` processes over the scene's database (started on first use)."""
    settings = on.stack.settings
    if settings.database_url in clusters:
        return clusters[settings.database_url]
    env = {**os.environ, "OBFBROKER_DATABASE_URL": settings.database_url,
           "OBFBROKER_ENCRYPTION_KEYS": settings.encryption_keys,
           "OBFBROKER_ZOOM_OAUTH_URL": settings.zoom_oauth_url,
           "OBFBROKER_ZOOM_API_URL": settings.zoom_api_url,
           "OBFBROKER_PUBLIC_URL": settings.public_url, "OBFBROKER_LOG_LEVEL": "WARNING",
           "OBFBROKER_DATABASE_POOL_SIZE": str(settings.database_pool_size),
           "OBFBROKER_DATABASE_MAX_OVERFLOW": str(settings.database_max_overflow)}
    ports = [free_port() for _ in range(PROCESSES)]
    processes = [spawn("serve", "--no-migrate", "--port", str(port), env=env) for port in ports]
    for process in processes:
        clusters["_exit"].callback(stop, process)
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    for url, process in zip(urls, processes, strict=True):
        wait_until_ready(f"{url}/readyz", process)
    clusters[settings.database_url] = urls
    return urls


@pytest.mark.parametrize("forced", [False, True], ids=["expired-by-clock", "killed-early-by-zoom"])
def test_fifty_mints_across_four_serve_processes_share_one_refresh(scene: Scene, clusters, forced):
    assert_one_refresh_and_all_minted(scene, serve_processes(scene, clusters), forced=forced)


def test_across_four_serve_processes_one_key_still_makes_one_bot(scene: Scene, clusters):
    if scene.stack.settings.is_sqlite:
        pytest.skip("several serve processes share one database in production on PostgreSQL")
    assert_one_bot_for_one_key(scene, serve_processes(scene, clusters))


def test_across_four_serve_processes_one_deduplication_key_makes_one_bot(scene: Scene, clusters):
    if scene.stack.settings.is_sqlite:
        pytest.skip("several serve processes share one database in production on PostgreSQL")
    assert_one_unfinished_bot_per_deduplication_key(scene, serve_processes(scene, clusters))


def test_a_leave_request_on_one_serve_process_stops_minting_on_every_one(scene: Scene, clusters):
    if scene.stack.settings.is_sqlite:
        pytest.skip("several serve processes share one database in production on PostgreSQL")
    assert_leave_stops_minting_at_once(scene, serve_processes(scene, clusters)[:2])


def test_a_capped_token_link_mints_exactly_its_max_uses_across_serve_processes(stack, clusters):
    """Ten calls at once, spread over two serve processes, to a link allowing three: three
    tokens, seven 410s; and a revoked link is refused by both processes at once."""
    if stack.settings.is_sqlite:
        pytest.skip("several serve processes share one database in production on PostgreSQL")
    links = link_scene(stack)
    bases = serve_processes(links, clusters)[:2]  # type: ignore[arg-type]
    link = links.create(platform="meetingbaas", meeting_link=links.meeting.join_url, max_uses=3)
    path = links.url(link, "obf").removeprefix(stack.url)
    before = stack.sim.stats()["obf_mints"]

    async def fire() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60) as client:
            return await asyncio.gather(*(client.get(bases[n % 2] + path + f"&bot_id=b{n}")
                                          for n in range(10)))

    answers = asyncio.run(fire())
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] * 3 + [410] * 7, [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 410} == {"token_link_used_up"}
    assert stack.sim.stats()["obf_mints"] - before == 3
    assert links.read(link)["uses"] == 3
    # Each process writes its calls' log in batches (token_links/use_log.py): soon, not at once.
    deadline = time.monotonic() + 10
    while len(links.uses(link)) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(links.uses(link)) == 10

    open_link = links.create(platform="meetingbaas", meeting_link=links.meeting.join_url)
    path = links.url(open_link, "obf").removeprefix(stack.url)
    assert all(httpx.get(base + path, timeout=30).status_code == 200 for base in bases)
    revoked = httpx.delete(f"{bases[0]}/api/v1/zoom/token-links/{open_link['id']}",
                           headers=links.api.headers)
    assert revoked.status_code == 200
    for base in reversed(bases):
        answer = httpx.get(base + path, timeout=30)
        assert answer.status_code == 410 and answer.json()["code"] == "token_link_revoked"
    links.api.close()
