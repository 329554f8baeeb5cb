"""The runner joins a hosted-OBF bot with the Meeting SDK key of the app its user authorized: the
simulator, like Zoom, refuses an OBF token minted through one app in a bot signed by another."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.bot_scenes import new_meeting
from tests.support.live import Life, live_scene
from tests.support.sim import REDIRECT_URI, SimControl

# Which app the runner picks does not depend on the database: SQLite only.
pytestmark = pytest.mark.parametrize("fresh_database_url", ["sqlite"], indirect=True)


@pytest.fixture
def life(fresh_database_url: str, sim: SimControl) -> Iterator[Life]:
    with live_scene(fresh_database_url, sim) as scene:
        yield scene


def test_a_bot_for_a_user_of_the_second_app_joins_with_that_app(life: Life):
    second = life.sim.create_app()
    created = life.api.post("/api/v1/zoom/oauth/apps", json={
        "client_id": second.client_id, "client_secret": second.client_secret, "name": "internal"})
    assert created.status_code == 201, created.text
    bob = life.sim.create_user("Bob")
    code = life.sim.authorize(second, bob["id"])
    connected = life.api.post("/api/v1/zoom/oauth/connections", json={
        "code": code, "redirect_uri": REDIRECT_URI, "app_id": created.json()["app_id"]})
    assert connected.status_code == 200, connected.text
    meeting = new_meeting(life.customer.stack, bob["id"])
    life.sim._ok(life.sim.http.post(f"/_sim/meetings/{meeting.number}/participants",
                                    json={"user_id": bob["id"]}))

    bot = life.start_bot(meeting_link=meeting.join_url,
                         zoom={"use_zoom_obf": True, "zoom_oauth_connection_user_id": bob["id"]})
    joined = life.wait_status(bot["bot_id"], "in_meeting")
    assert joined["acting_for_zoom_user_id"] == bob["id"]
    (sim_bot,) = life.sim._ok(life.sim.http.get(f"/_sim/meetings/{meeting.number}"))["bots"]
    assert sim_bot["client_id"] == second.client_id  # the SDK key of the app Bob authorized
