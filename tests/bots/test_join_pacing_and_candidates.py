"""Joins that respect Zoom and the host, on the simulator: a late or absent user costs at most
the token cap (a twenty-minute wait run on a worker clock whose pauses take no time), a meeting
that cannot be joined costs one attempt, and a bot with several authorizing users joins, and
rejoins, for whichever of them is in the meeting (the pacing scaled down 160 times: 3 s -> 19 ms,
40-60 s -> 0.25-0.375 s)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.clocks import SteppedClock
from tests.support.live import WAIT, Life, live_scene
from tests.support.sim import SimControl
from tests.support.waiting import eventually

SCALE = 160
PACED = {"join_retry_initial_seconds": 3 / SCALE, "join_retry_steady_min_seconds": 40 / SCALE,
         "join_retry_steady_max_seconds": 60 / SCALE,
         "waiting_for_authorizing_user_timeout_seconds": 1200 / SCALE}


@pytest.fixture
def paced(fresh_database_url: str, sim: SimControl) -> Iterator[Life]:
    with live_scene(fresh_database_url, sim, **PACED) as scene:
        yield scene


@pytest.fixture
def stepped(fresh_database_url: str, sim: SimControl) -> Iterator[tuple[Life, SteppedClock]]:
    """The default pacing's first waits (3 s, doubling), then exactly 50 s each (no jitter, so
    the count is exact), up to twenty minutes: on a clock whose pauses take no time."""
    clock = SteppedClock()
    settings = {"join_retry_initial_seconds": 3, "join_retry_steady_min_seconds": 50,
                "join_retry_steady_max_seconds": 50, "waiting_for_authorizing_user_timeout_seconds": 1200}
    with live_scene(fresh_database_url, sim, clock=clock, **settings) as scene:
        yield scene, clock


@pytest.fixture
def capped(fresh_database_url: str, sim: SimControl) -> Iterator[Life]:
    settings = {**PACED, "bot_max_tokens": 3, "waiting_for_authorizing_user_timeout_seconds": 600}
    with live_scene(fresh_database_url, sim, **settings) as scene:
        yield scene


def meeting(life: Life) -> dict[str, Any]:
    return life.sim._ok(life.sim.http.get(f"/_sim/meetings/{life.meeting.number}"))


def detail(life: Life, bot_id: str) -> dict[str, Any]:
    return life.api.get(f"/api/v1/bots/{bot_id}/detail").json()


def wait_until(check, what: str) -> Any:
    return eventually(check, what, timeout=WAIT, every=0.02)


def connect(life: Life, name: str) -> dict[str, Any]:
    user = life.sim.create_user(name)
    assert life.customer.connect(user["id"]).status_code == 200
    return user


def joins(life: Life, user: dict[str, Any]) -> None:
    life.sim._ok(life.sim.http.post(f"/_sim/meetings/{life.meeting.number}/participants",
                                    json={"user_id": user["id"]}))


def leaves(life: Life, user: dict[str, Any]) -> None:
    life.sim._ok(life.sim.http.delete(f"/_sim/meetings/{life.meeting.number}/participants/{user['id']}"))


def with_candidates(life: Life, *users: dict[str, Any]) -> dict[str, Any]:
    return life.start_bot(zoom={"use_zoom_obf": True,
                                "zoom_oauth_connection_user_ids": [u["id"] for u in users]})


def test_a_twenty_minute_wait_costs_at_most_the_token_cap(stepped: tuple[Life, SteppedClock]):
    paced, clock = stepped
    before = paced.sim.stats()
    bot = paced.start_bot()
    failed = paced.wait_status(bot["bot_id"], "failed")
    assert failed["reason"] == "authorizing_user_never_joined" and failed["bot_status"] == "NotAllowed"
    history = [e["status"] for e in detail(paced, bot["bot_id"])["status_history"]]
    assert history == ["queued", "joining", "waiting_for_authorizing_user", "failed"]

    # Waits of 3, 6, 12 and 24 s (each +-10 %: 40.5 to 49.5 s in all), then 50 s each: 23 of
    # them fit in what is left of the 20 minutes, and the 24th would pass it. One attempt before
    # the first wait and one after each: 28 attempts, each with a token of its own.
    for wait, base in zip(clock.slept[:4], (3, 6, 12, 24), strict=True):
        assert base * 0.9 <= wait <= base * 1.1, clock.slept
    assert clock.slept[4:] == [50] * 23
    minted = paced.sim.stats()["obf_mints"] - before["obf_mints"]
    assert failed["tokens_minted"] == failed["join_attempts"] == minted == 28
    assert minted <= paced.customer.stack.settings.bot_max_tokens
    assert meeting(paced)["host_notifications"] == minted
    assert failed["next_attempt_at"] is None


def test_the_token_cap_ends_the_wait(capped: Life):
    bot = capped.start_bot()
    failed = capped.wait_status(bot["bot_id"], "failed")
    assert failed["reason"] == "authorizing_user_never_joined"
    assert failed["tokens_minted"] == 3 and meeting(capped)["host_notifications"] == 3


def test_an_ended_meeting_costs_one_attempt(paced: Life):
    paced.sim._ok(paced.sim.http.post(f"/_sim/meetings/{paced.meeting.number}/end"))
    bot = paced.start_bot()
    failed = paced.wait_status(bot["bot_id"], "failed")
    assert failed["reason"] == "meeting_ended" and failed["bot_status"] == "Error"
    assert failed["join_attempts"] == 1 and failed["tokens_minted"] == 1


def test_a_missing_meeting_costs_one_attempt(paced: Life):
    bot = paced.start_bot(meeting_link="https://zoom.us/j/99999999999")
    failed = paced.wait_status(bot["bot_id"], "failed")
    assert failed["reason"] == "meeting_not_found" and failed["join_attempts"] == 1


@pytest.mark.parametrize("answer", ["MEETING_FAIL_UNKNOWN", "MEETING_FAIL_MEETING_OVER"])
def test_the_sdks_odd_answers_to_a_refused_obf_join_are_retried(paced: Life, answer: str):
    bot = paced.start_bot()
    paced.wait_status(bot["bot_id"], "waiting_for_authorizing_user")
    paced.sim.faults(obf_refusal=answer)
    wait_until(lambda: paced.sim.stats()["bot_join_refusals_by_error"].get(answer, 0) >= 2,
               f"two joins refused with {answer}")
    assert detail(paced, bot["bot_id"])["status"] == "waiting_for_authorizing_user", "still waiting"
    paced.alice_joins()
    assert paced.wait_status(bot["bot_id"], "in_meeting")["acting_for_zoom_user_id"] == paced.alice["id"]


def test_65535_on_the_first_obf_join_is_retried_too(paced: Life):
    paced.sim.faults(obf_refusal="MEETING_FAIL_UNKNOWN")
    bot = paced.start_bot()
    wait_until(lambda: detail(paced, bot["bot_id"])["join_attempts"] >= 2, "a second attempt")
    paced.alice_joins()
    paced.wait_status(bot["bot_id"], "in_meeting")


def test_with_only_the_second_candidate_present_the_bot_joins_for_them(paced: Life):
    bob = connect(paced, "Bob")
    joins(paced, bob)
    bot = with_candidates(paced, paced.alice, bob)
    assert bot["zoom"]["zoom_oauth_connection_user_ids"] == [paced.alice["id"], bob["id"]]
    joined = paced.wait_status(bot["bot_id"], "in_meeting")
    assert joined["acting_for_zoom_user_id"] == bob["id"]
    assert joined["status_history"][-1]["acting_for_zoom_user_id"] == bob["id"]
    (sim_bot,) = [b for b in meeting(paced)["bots"] if b["state"] == "in_meeting"]
    assert sim_bot["on_behalf_of"] == bob["id"]
    change = wait_until(lambda: [w["data"] for w in paced.webhooks(bot["bot_id"])
                                 if w["data"]["status"] == "in_meeting"], "the in_meeting webhook")
    assert change[0]["acting_for_zoom_user_id"] == bob["id"]


def test_when_the_first_leaves_the_bot_rejoins_for_the_second_then_stops_with_the_last(paced: Life):
    bob = connect(paced, "Bob")
    paced.alice_joins()
    joins(paced, bob)
    bot = with_candidates(paced, paced.alice, bob)
    assert paced.wait_status(bot["bot_id"], "in_meeting")["acting_for_zoom_user_id"] == paced.alice["id"]
    leaves(paced, paced.alice)
    rejoined = wait_until(lambda: (d := detail(paced, bot["bot_id"]))["acting_for_zoom_user_id"] == bob["id"]
                          and d["status"] == "in_meeting" and d, "in the meeting for Bob")
    statuses = [(e["status"], e["acting_for_zoom_user_id"]) for e in rejoined["status_history"]]
    assert statuses[-3:] == [("in_meeting", paced.alice["id"]), ("joining", None), ("in_meeting", bob["id"])]
    assert [b["on_behalf_of"] for b in meeting(paced)["bots"] if b["state"] == "in_meeting"] == [bob["id"]]

    leaves(paced, bob)
    ended = paced.wait_status(bot["bot_id"], "ended")
    assert ended["reason"] == "authorizing_user_left" and ended["bot_status"] == "Stopped"


def test_every_candidate_gone_stops_the_bot(paced: Life):
    bob = connect(paced, "Bob")
    paced.alice_joins()
    joins(paced, bob)
    bot = with_candidates(paced, paced.alice, bob)
    paced.wait_status(bot["bot_id"], "in_meeting")
    leaves(paced, bob)
    leaves(paced, paced.alice)
    ended = paced.wait_status(bot["bot_id"], "ended")
    assert ended["reason"] == "authorizing_user_left" and ended["bot_status"] == "Stopped"
    assert ended["tokens_minted"] == 2, "one token to get in, one to find Bob gone"
