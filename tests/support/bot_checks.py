"""What the bot tests check, in one process and (tests/e2e/test_races_across_serve_processes.py)
across several ``serve`` processes: a retried create makes one bot, a burst of mints shares one
refresh, and a leave request stops minting at once everywhere."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.support.bot_scenes import (
    CREATE,
    Scene,
    expire_stored_access_token,
    fetch_token,
    hold_as_worker,
    launch_spec,
)
from tests.support.errors import assert_error
from tests.support.http import TLS

PARALLEL = 10


def body_for(scene: Scene, **extra: Any) -> dict[str, Any]:
    return {"meeting_link": scene.meeting.join_url, "bot_name": "Notes",
            "zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": scene.alice["id"]}, **extra}


async def _post_all(urls: list[str], api_key: str, bodies: list[dict],
                    keys: list[str | None]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(bodies))
    async with httpx.AsyncClient(verify=TLS, timeout=60, limits=limits) as client:
        calls = []
        for i, (body, key) in enumerate(zip(bodies, keys, strict=True)):
            headers = {"Authorization": f"Token {api_key}"}
            if key is not None:
                headers["Idempotency-Key"] = key
            calls.append(client.post(f"{urls[i % len(urls)]}{CREATE}", json=body, headers=headers))
        return await asyncio.gather(*calls)


def post_all(scene: Scene, urls: list[str], bodies: list[dict],
             keys: list[str | None]) -> list[httpx.Response]:
    return asyncio.run(_post_all(urls, scene.customer.api_key, bodies, keys))


def bot_ids(scene: Scene) -> list[str]:
    return [b["bot_id"] for b in scene.api.get("/api/v1/bots").json()["bots"]]


def assert_one_bot_for_one_key(scene: Scene, urls: list[str]) -> None:
    body = body_for(scene)
    responses = post_all(scene, urls, [body] * PARALLEL, ["retry-7f3a"] * PARALLEL)
    assert [r.status_code for r in responses] == [201] * PARALLEL, {r.text for r in responses}
    answers = {r.json()["bot_id"] for r in responses}
    assert len(answers) == 1 and bot_ids(scene) == list(answers)
    replayed = [r.headers.get("Idempotent-Replayed") for r in responses]
    assert replayed.count(None) == 1 and replayed.count("true") == PARALLEL - 1
    assert all(r.json() == responses[0].json() for r in responses), "the same answer, byte for byte"


def assert_one_unfinished_bot_per_deduplication_key(scene: Scene, urls: list[str]) -> None:
    body = body_for(scene, deduplication_key="meeting-42")
    responses = post_all(scene, urls, [body] * PARALLEL, [None] * PARALLEL)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (PARALLEL - 1), {r.text for r in responses}
    (created,) = [r.json() for r in responses if r.status_code == 201]
    for refused in (r.json() for r in responses if r.status_code == 409):
        assert refused["code"] == "duplicate_bot" and refused["bot_id"] == created["bot_id"]
        assert created["bot_id"] in refused["message"]
    assert bot_ids(scene) == [created["bot_id"]]


MINTS = 50


async def _mint_all(urls: list[str], spec: dict) -> list[httpx.Response]:
    headers = {"X-Bot-Id": spec["bot_id"], "X-Webhook-Secret": spec["bot_secret"]}
    limits = httpx.Limits(max_connections=MINTS)
    async with httpx.AsyncClient(verify=TLS, timeout=60, limits=limits) as client:
        calls = [client.get(f"{urls[i % len(urls)]}/token-server/zoom/obf", headers=headers,
                            params={"meeting_number": spec["meeting_number"]}) for i in range(MINTS)]
        return await asyncio.gather(*calls)


def assert_one_refresh_and_all_minted(scene: Scene, urls: list[str], *, forced: bool) -> None:
    spec = launch_spec(scene.stack, scene.hosted_bot()["bot_id"])
    if forced:  # Zoom killed the token early; our copy still looks fresh
        scene.stack.sim._ok(scene.stack.sim.http.post(f"/_sim/users/{scene.alice['id']}/expire-tokens"))
    else:
        expire_stored_access_token(scene.stack, scene.customer.account_id, scene.alice["id"])
    before = scene.stack.sim.stats()
    responses = asyncio.run(_mint_all(urls, spec))
    after = scene.stack.sim.stats()
    failures = {r.text for r in responses if r.status_code != 200}
    assert [r.status_code for r in responses] == [200] * MINTS, failures
    tokens = {r.json()["token"] for r in responses}
    assert len(tokens) == MINTS, "every mint is a distinct single-use token"
    assert after["refreshes"] - before["refreshes"] == 1
    assert after["invalid_grant"] == before["invalid_grant"]
    assert after["obf_mints"] - before["obf_mints"] == MINTS
    connection = scene.api.get(f"/api/v1/zoom/oauth/connections/{scene.alice['id']}").json()
    assert connection["state"] == "connected" and connection["has_refresh_token"] is True


def assert_leave_stops_minting_at_once(scene: Scene, bases: list[str]) -> None:
    """A bot a worker is running mints until it is asked to leave, then every process answers
    410 at once, before any worker has acted on the request."""
    spec = launch_spec(scene.stack, scene.hosted_bot()["bot_id"])
    hold_as_worker(scene.stack, spec["bot_id"])
    for base in bases:
        assert fetch_token(scene.stack, spec, base=base).status_code == 200
    minted = scene.stack.sim.stats()["obf_mints"]
    left = httpx.post(f"{bases[0]}/api/v1/bots/{spec['bot_id']}/leave", headers=scene.api.headers, timeout=30)
    assert left.status_code == 202 and left.json()["status"] == "joining", left.text
    for base in [*bases[1:], bases[0]]:
        response = fetch_token(scene.stack, spec, base=base)
        assert_error(response, 410, "bot_leave_requested")
        assert response.headers["cache-control"] == "no-store"
        assert_error(fetch_token(scene.stack, spec, kind="zak", base=base), 410, "bot_leave_requested")
    assert scene.stack.sim.stats()["obf_mints"] == minted
    assert scene.api.get(f"/api/v1/bots/{spec['bot_id']}").json()["status"] == "joining", \
        "the refusals came from the leave request, not from a worker ending the bot"
