"""What a client written for MeetStream sees of a bot's life, over real HTTP: ``bot_status`` on
every read, and the callback stream (``bot.joining`` ... one ``bot.stopped`` ... ``bot.done``) for
each way a bot's life can end. A worker runs in this process against the API, which runs on
loopback, and the Zoom simulator."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.live import Life, live_scene
from tests.support.sim import SimControl


def sequence(callbacks: list[dict[str, Any]]) -> list[tuple[str, str, str, int]]:
    return [(c["event"], c["bot_event"], c["bot_status"], c["status_code"]) for c in callbacks]


JOINING = ("bot.joining", "bot.joining", "Joining", 200)
IN_MEETING = ("bot.inmeeting", "bot.inmeeting", "InMeeting", 200)
LEAVING = ("bot.leaving", "bot.leaving", "Leaving", 200)
DONE = ("bot.done", "bot.done", "Done", 200)


@pytest.fixture
def life(fresh_database_url: str, sim: SimControl) -> Iterator[Life]:
    with live_scene(fresh_database_url, sim) as scene:
        yield scene


def test_waiting_for_alice_is_joining_then_in_meeting_then_stopped_when_she_leaves(life: Life):
    bot = life.start_bot()
    assert bot["bot_status"] == "Joining"
    life.wait_status(bot["bot_id"], "waiting_for_authorizing_user")
    assert life.reads(bot["bot_id"]) == {"Joining"}

    life.alice_joins()
    life.wait_status(bot["bot_id"], "in_meeting")
    assert life.reads(bot["bot_id"]) == {"InMeeting"}

    life.alice_leaves()
    ended = life.wait_status(bot["bot_id"], "ended")
    assert ended["reason"] == "authorizing_user_left" and ended["bot_status"] == "Stopped"
    assert life.api.get(f"/api/v1/bots/{bot['bot_id']}/status").json() == {
        "bot_id": bot["bot_id"], "status": "ended", "bot_status": "Stopped",
        "reason": "authorizing_user_left"}

    callbacks = life.callbacks(bot["bot_id"])
    assert sequence(callbacks) == [JOINING, IN_MEETING, ("bot.stopped", "bot.stopped", "Stopped", 200), DONE]
    stopped = callbacks[2]
    assert stopped["message"] and stopped["custom_attributes"] == {"tenant": "acme"}
    assert stopped["status"] == "ended" and stopped["reason"] == "authorizing_user_left"
    assert all(c["timestamp"] and c["bot_id"] == bot["bot_id"] for c in callbacks)

    webhooks = life.webhooks(bot["bot_id"])
    changes = [w["data"] for w in webhooks if w["type"] == "bot.status_changed"]
    assert [(c["status"], c["bot_status"]) for c in changes] == [
        ("queued", "Joining"), ("joining", "Joining"), ("waiting_for_authorizing_user", "Joining"),
        ("in_meeting", "InMeeting"), ("ended", "Stopped")]
    assert changes[-1]["event"] == "bot.stopped" and changes[-1]["bot_event"] == "bot.stopped"
    assert webhooks[-1]["type"] == "bot.done" and webhooks[-1]["data"]["bot_status"] == "Done"

    def callback_log() -> list[str]:
        log = life.api.get("/api/v1/webhooks/deliveries", params={"limit": 200}).json()["deliveries"]
        return [d["event_type"] for d in reversed(log) if d["target"] == "callback_url"]

    deadline = time.monotonic() + 30  # the last attempt is logged once its answer is in
    while len(callback_log()) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert callback_log() == ["bot.joining", "bot.inmeeting", "bot.stopped", "bot.done"]
    log = life.api.get("/api/v1/webhooks/deliveries", params={"limit": 200}).json()["deliveries"]
    assert {d["target"] for d in log} == {"callback_url", "webhook_endpoint"}


def test_removed_by_request_leaves_then_stops(life: Life):
    life.alice_joins()
    bot = life.start_bot()
    life.wait_status(bot["bot_id"], "in_meeting")
    assert life.api.get(f"/api/v1/bots/{bot['bot_id']}/remove_bot").status_code == 200
    ended = life.wait_status(bot["bot_id"], "ended")
    assert ended["reason"] == "left_by_request" and life.reads(bot["bot_id"]) == {"Stopped"}
    assert sequence(life.callbacks(bot["bot_id"])) == [
        JOINING, IN_MEETING, LEAVING, ("bot.stopped", "bot.stopped", "Stopped", 200), DONE]


def test_removed_by_the_host_is_a_kick(life: Life):
    life.alice_joins()
    bot = life.start_bot()
    life.wait_status(bot["bot_id"], "in_meeting")
    (sim_bot,) = life.sim._ok(life.sim.http.get(f"/_sim/meetings/{life.meeting.number}"))["bots"]
    life.sim._ok(life.sim.http.post(f"/_sim/meetings/{life.meeting.number}/bots/{sim_bot['bot_id']}/remove"))
    ended = life.wait_status(bot["bot_id"], "ended")
    assert ended["reason"] == "removed" and life.reads(bot["bot_id"]) == {"Stopped"}
    assert sequence(life.callbacks(bot["bot_id"])) == [
        JOINING, IN_MEETING, ("bot.stopped", "bot.kicked", "Stopped", 200), DONE]


def test_an_authorizing_user_who_never_comes_is_not_allowed(life: Life):
    bot = life.start_bot(automatic_leave={"waiting_room_timeout": 1})
    failed = life.wait_status(bot["bot_id"], "failed")
    assert failed["reason"] == "authorizing_user_never_joined"
    assert life.reads(bot["bot_id"]) == {"NotAllowed"}
    callbacks = life.callbacks(bot["bot_id"])
    assert sequence(callbacks) == [JOINING, ("bot.stopped", "bot.notallowed", "NotAllowed", 500), DONE]
    assert "never joined" in callbacks[1]["message"]


def test_a_failure_is_an_error(life: Life):
    bot = life.start_bot(meeting_link="https://zoom.us/j/99999999999")
    failed = life.wait_status(bot["bot_id"], "failed")
    assert failed["reason"] == "meeting_not_found" and life.reads(bot["bot_id"]) == {"Error"}
    callbacks = life.callbacks(bot["bot_id"])
    assert sequence(callbacks) == [JOINING, ("bot.stopped", "bot.failed", "Error", 500), DONE]
    assert callbacks[1]["message"] == "Failed: The meeting does not exist"


def test_a_queued_bot_asked_to_leave_stops_without_joining(life: Life):
    bot = life.start_bot(join_at="2099-01-01T00:00:00Z")
    assert life.api.post(f"/api/v1/bots/{bot['bot_id']}/leave").status_code == 202
    assert life.reads(bot["bot_id"]) == {"Stopped"}
    assert sequence(life.callbacks(bot["bot_id"])) == [("bot.stopped", "bot.stopped", "Stopped", 200), DONE]
