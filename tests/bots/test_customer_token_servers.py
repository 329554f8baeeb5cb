"""A bot's own token server (zoom.obf_url / zoom.zak_url) and its callback_url are customers'
URLs like the webhook endpoint: refused when saved if they plainly lead inside, and checked again
when the worker's bot connects, after DNS resolution."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from obfbroker.bots.models import Bot
from tests.support.bot_scenes import CREATE, Scene, run
from tests.support.live import live_scene
from tests.support.servers import serve_app
from tests.support.sim import SimControl

# (127.0.0.1 itself is a host the tests' deployment allows for development.)
INSIDE = ["https://127.0.0.2/obf", "https://localhost:8443/obf", "https://api.localhost/obf",
          "https://10.0.0.8/obf", "https://169.254.169.254/latest/meta-data/", "https://[::1]/obf",
          "https://[::ffff:192.168.0.1]/obf", "https://2130706433/obf", "https://100.64.0.1/obf",
          "https://0.0.0.0/obf"]
FIELDS = {"obf_url": ("zoom", "invalid_zoom_obf_url"), "zak_url": ("zoom", "invalid_zoom_zak_url"),
          "callback_url": (None, "invalid_callback_url")}


def body_with(scene: Scene, field: str, url: str) -> dict[str, Any]:
    where, _ = FIELDS[field]
    body: dict[str, Any] = {"meeting_link": scene.meeting.join_url}
    if where == "zoom":
        body["zoom"] = {field: url}
    else:
        body[field] = url
        body["zoom"] = {"use_zoom_obf": True, "zoom_oauth_connection_user_id": scene.alice["id"]}
    return body


def test_urls_that_lead_inside_are_refused_when_the_bot_is_created(scene: Scene):
    for field, (_, code) in FIELDS.items():
        for url in INSIDE:
            response = scene.api.post(CREATE, json=body_with(scene, field, url))
            assert response.status_code == 400, (field, url, response.text)
            assert response.json()["code"] == code
            assert "must not lead to" in response.json()["detail"], response.json()["detail"]
        plain = scene.api.post(CREATE, json=body_with(scene, field, "http://tokens.example.com/x"))
        assert plain.status_code == 400 and plain.json()["detail"].endswith("must be an https URL")
        for fine in ("https://tokens.example.com/obf", "http://127.0.0.1:5005/x"):  # the latter: allowed
            assert scene.api.post(CREATE, json=body_with(scene, field, fine)).status_code == 201, fine
    assert len(scene.api.get("/api/v1/bots").json()["bots"]) == 2 * len(FIELDS)


@pytest.mark.parametrize("fresh_database_url", ["sqlite"], indirect=True)
def test_the_worker_calls_an_allowed_token_server_and_refuses_one_that_resolves_inside(
        fresh_database_url: str, sim: SimControl):
    calls: list[dict[str, str]] = []

    async def token(request: Request) -> JSONResponse:
        calls.append({"bot_id": request.headers.get("x-bot-id", ""),
                      "meeting_number": request.query_params.get("meeting_number", "")})
        return JSONResponse({"token": "not-a-zoom-token"})

    token_server = Starlette(routes=[Route("/obf", token)])
    with live_scene(fresh_database_url, sim) as life, serve_app(token_server) as tokens:
        port = tokens.rsplit(":", 1)[1]
        # Allowed for development (the tests' deployment allows 127.0.0.1): the bot calls it.
        allowed = life.api.post(CREATE, json={"meeting_link": life.meeting.join_url,
                                              "zoom": {"obf_url": f"{tokens}/obf"}}).json()
        # Saved as a name (nothing to refuse then), which resolves to loopback by the time the
        # bot fetches its token: the system's resolver says localhost is 127.0.0.1 / ::1.
        join_at = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
        rebound = life.api.post(CREATE, json={"meeting_link": life.meeting.join_url, "join_at": join_at,
                                              "zoom": {"obf_url": f"https://tokens.customer.example:{port}/obf"}})
        assert rebound.status_code == 201, rebound.text
        rebound_id = rebound.json()["bot_id"]

        async def rebind(runtime):
            async with runtime.sessions() as session:
                await session.execute(update(Bot).where(Bot.id == rebound_id)
                                      .values(obf_url=f"https://localhost:{port}/obf"))
                await session.commit()

        run(life.stack, rebind)
        failed = life.wait_status(rebound_id, "failed")
        assert failed["reason"] == "obf_token_unavailable"
        assert any(call["bot_id"] == allowed["bot_id"] and call["meeting_number"] == life.meeting.number
                   for call in calls), calls
        assert not [call for call in calls if call["bot_id"] == rebound_id], "the refused one was not called"

