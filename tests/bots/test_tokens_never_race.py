"""50 simultaneous mints for one connection whose access token expired: exactly one refresh,
every mint succeeds, the connection stays connected. Here in one process; across four ``serve``
processes in tests/e2e/test_races_across_serve_processes.py."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.support.bot_scenes import Scene, expire_stored_access_token, launch_spec
from tests.support.http import TLS

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


@pytest.mark.parametrize("forced", [False, True], ids=["expired-by-clock", "killed-early-by-zoom"])
def test_fifty_mints_in_one_process_share_one_refresh(scene: Scene, forced: bool):
    assert_one_refresh_and_all_minted(scene, [scene.stack.url], forced=forced)
