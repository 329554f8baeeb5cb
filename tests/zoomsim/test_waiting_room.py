"""A meeting's waiting room: bots wait there until the host admits them, unless a join token
minted with `bypass_waiting_room=true` lets them straight in; waiting bots leave like the others,
and long-polls answer when they are admitted."""

from __future__ import annotations

import time

import pytest

from obfbroker.zoomsim.seed import ALICE_ID, BOB_ID
from tests.zoomsim.helpers import (
    bot_path,
    connect,
    enter,
    join,
    long_poll_waiting,
    meeting_view,
    mint,
    mint_join_token,
    new_meeting,
    poll_in_background,
)


def admit(http, meeting: dict, bot_id: str):
    return http.post(f"{bot_path(meeting, bot_id)}/admit")


def waiting_bot(http, sim, meeting: dict, access_token: str, name: str = "Notetaker") -> dict:
    response = join(http, sim, meeting, obf=mint(http, access_token, meeting), name=name)
    assert response.status_code == 201, response.text
    bot = response.json()
    assert bot["state"] == "in_waiting_room"
    return bot


def test_meetings_have_no_waiting_room_unless_asked(http):
    plain = meeting_view(http, new_meeting(http))
    assert plain["waiting_room"] is False
    assert meeting_view(http, new_meeting(http, waiting_room=False))["waiting_room"] is False
    assert meeting_view(http, new_meeting(http, waiting_room=True))["waiting_room"] is True
    for bad in ("yes", "true", 1, None):
        response = http.post("/_sim/meetings", json={"host_user_id": ALICE_ID, "waiting_room": bad})
        assert response.status_code == 400, (bad, response.text)
        assert response.json()["error"] == "invalid_request"


def test_a_bot_waits_until_the_host_admits_it_and_the_long_poll_wakes(http, sim_state, base_url):
    alice = connect(http)
    meeting = new_meeting(http, waiting_room=True)
    enter(http, meeting)
    bot = waiting_bot(http, sim_state, meeting, alice["access_token"])
    assert (bot["left_at"], bot["end_reason"], bot["can_record"]) == (None, None, False)
    assert meeting_view(http, meeting)["bots"] == [bot]
    assert http.get("/_sim/stats").json()["bot_joins"] == 1  # let in, if only to the waiting room

    poll = poll_in_background(base_url, bot_path(meeting, bot["bot_id"]), wait=30)
    long_poll_waiting(sim_state, meeting)
    assert not poll.done()  # still waiting: the poll waits too
    admitted = admit(http, meeting, bot["bot_id"])
    assert admitted.status_code == 200
    assert admitted.json() == {**bot, "state": "in_meeting"}
    answer = poll.result(timeout=15)  # answered well before its 30 s wait: woken
    assert answer.json()["state"] == "in_meeting"

    # Admitting again, or admitting a bot that is out, changes nothing.
    assert admit(http, meeting, bot["bot_id"]).json() == admitted.json()
    left = http.delete(bot_path(meeting, bot["bot_id"])).json()
    assert admit(http, meeting, bot["bot_id"]).json() == left
    assert left["state"] == "left"


def test_admitting_unknown_bots_is_404(http, sim_state):
    alice = connect(http)
    meeting, other = new_meeting(http, waiting_room=True), new_meeting(http)
    enter(http, meeting)
    bot = waiting_bot(http, sim_state, meeting, alice["access_token"])
    for response in (admit(http, meeting, "simbot_ghost"), admit(http, other, bot["bot_id"]),
                     http.post(f"/_sim/meetings/99999999999/bots/{bot['bot_id']}/admit")):
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
    assert http.get(bot_path(meeting, bot["bot_id"])).json()["state"] == "in_waiting_room"


def test_a_long_poll_on_a_waiting_bot_times_out_with_it_still_waiting(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http, waiting_room=True)
    enter(http, meeting)
    bot = waiting_bot(http, sim_state, meeting, alice["access_token"])
    started = time.monotonic()
    answer = http.get(bot_path(meeting, bot["bot_id"]), params={"wait": 0.5})
    assert time.monotonic() - started >= 0.5
    assert answer.json()["state"] == "in_waiting_room"


@pytest.mark.parametrize(("flag", "state"), [(True, "in_meeting"), (False, "in_waiting_room"),
                                             (None, "in_waiting_room")])
def test_only_a_join_token_minted_to_bypass_skips_the_waiting_room(http, sim_state, flag, state):
    alice = connect(http)
    meeting = new_meeting(http, waiting_room=True)
    enter(http, meeting)
    token = mint_join_token(http, alice["access_token"], meeting, bypass_waiting_room=flag)
    response = join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting),
                    join_token=token)
    assert response.status_code == 201, response.text
    bot = response.json()
    assert (bot["state"], bot["used_join_token"], bot["can_record"]) == (state, True, True)


def test_a_bypass_token_changes_nothing_without_a_waiting_room(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http)
    enter(http, meeting)
    for flag in (True, False):
        token = mint_join_token(http, alice["access_token"], meeting, bypass_waiting_room=flag)
        bot = join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting),
                   join_token=token).json()
        assert bot["state"] == "in_meeting"


def test_waiting_bots_leave_as_bots_in_the_meeting_do(http, sim_state, base_url):
    alice, bob = connect(http), connect(http, BOB_ID)
    meeting = new_meeting(http, waiting_room=True)
    number = meeting["meeting_number"]
    enter(http, meeting)
    enter(http, meeting, BOB_ID)
    alices = waiting_bot(http, sim_state, meeting, alice["access_token"], "alice's")
    leaving = waiting_bot(http, sim_state, meeting, bob["access_token"], "leaving")
    kicked = waiting_bot(http, sim_state, meeting, bob["access_token"], "kicked")
    last = waiting_bot(http, sim_state, meeting, bob["access_token"], "last")

    poll = poll_in_background(base_url, bot_path(meeting, alices["bot_id"]), wait=30)
    long_poll_waiting(sim_state, meeting)
    http.delete(f"/_sim/meetings/{number}/participants/{ALICE_ID}")
    woken = poll.result(timeout=15).json()
    assert (woken["state"], woken["end_reason"]) == ("removed", "DueToAuthorizedUserLeave")
    assert woken["left_at"] is not None

    left = http.delete(bot_path(meeting, leaving["bot_id"])).json()
    assert (left["state"], left["end_reason"]) == ("left", "LeftByBot")
    removed = http.post(f"{bot_path(meeting, kicked['bot_id'])}/remove").json()
    assert (removed["state"], removed["end_reason"]) == ("removed", "KickByHost")
    assert http.get(bot_path(meeting, last["bot_id"])).json()["state"] == "in_waiting_room"
    ended = http.post(f"/_sim/meetings/{number}/end").json()
    assert {b["bot_name"]: (b["state"], b["end_reason"]) for b in ended["bots"]} == {
        "alice's": ("removed", "DueToAuthorizedUserLeave"), "leaving": ("left", "LeftByBot"),
        "kicked": ("removed", "KickByHost"), "last": ("removed", "MeetingEnded")}
    # Out is out: admitting a bot that was taken out of the waiting room changes nothing.
    assert admit(http, meeting, last["bot_id"]).json()["state"] == "removed"
