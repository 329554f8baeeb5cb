"""Bots joining simulator meetings over HTTP under Zoom's OBF rules, leaving, removal, long-polls."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from obfbroker.zoomsim.sdkjwt import encode_sdk_jwt, sign_hs256
from obfbroker.zoomsim.seed import ALICE_ID, BOB_ID, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from obfbroker.zoomsim.state import SimState
from tests.zoomsim.helpers import (
    REDIRECT_URI,
    advance,
    authorize,
    bearer,
    bot_path,
    connect,
    enter,
    exchange,
    join,
    joined_bot,
    long_poll_waiting,
    meeting_view,
    mint,
    new_meeting,
    poll_in_background,
    refused,
    sdk_jwt,
)

BOT_KEYS = {"bot_id", "meeting_number", "bot_name", "client_id", "token_type", "on_behalf_of",
            "zak_user_id", "state", "joined_at", "left_at", "end_reason", "used_join_token",
            "can_record"}


# -- joining with OBF ---------------------------------------------------------------------

def test_bot_joins_with_fresh_obf_token_while_user_is_in_meeting(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http)
    enter(http, meeting)
    response = join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting))
    assert response.status_code == 201, response.text
    bot = response.json()
    assert set(bot) == BOT_KEYS
    assert bot["bot_id"].startswith("simbot_")
    assert bot["meeting_number"] == meeting["meeting_number"]
    assert (bot["bot_name"], bot["client_id"], bot["token_type"]) == ("Notetaker", DEMO_CLIENT_ID,
                                                                      "onbehalf")
    assert (bot["on_behalf_of"], bot["zak_user_id"]) == (ALICE_ID, None)
    assert (bot["state"], bot["left_at"], bot["end_reason"]) == ("in_meeting", None, None)
    assert (bot["used_join_token"], bot["can_record"]) == (False, False)
    assert bot["joined_at"].endswith("+00:00")

    view = http.get(f"/_sim/meetings/{meeting['meeting_number']}").json()
    assert view["bots"] == [bot]
    assert [p["user_id"] for p in view["participants"]] == [ALICE_ID]
    assert http.get(bot_path(meeting, bot["bot_id"])).json() == bot


def test_mn_may_be_an_int_and_role_1_is_accepted(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http)
    enter(http, meeting)
    iat = int(sim_state.now())
    jwt = encode_sdk_jwt(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, int(meeting["meeting_number"]),
                         iat=iat, exp=iat + 1800, role=1)
    response = join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting),
                    jwt=jwt)
    assert response.status_code == 201, response.text


def test_reused_obf_token_is_refused(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http)
    enter(http, meeting)
    token = mint(http, alice["access_token"], meeting)
    assert join(http, sim_state, meeting, obf=token).status_code == 201
    message = refused(join(http, sim_state, meeting, obf=token), 403,
                      "MEETING_FAIL_ON_BEHALF_TOKEN_INVALID", 505)
    assert "already used" in message
    unknown = join(http, sim_state, meeting, obf="simobf_made-up")
    assert "Unknown" in refused(unknown, 403, "MEETING_FAIL_ON_BEHALF_TOKEN_INVALID", 505)


def test_another_meetings_token_does_not_match(http, sim_state):
    alice = connect(http)
    meeting, other = new_meeting(http), new_meeting(http)
    enter(http, meeting)
    response = join(http, sim_state, meeting, obf=mint(http, alice["access_token"], other))
    refused(response, 403, "MEETING_FAIL_ON_BEHALF_TOKEN_NOT_MATCH_MEETING", 506)


def test_expired_obf_token_is_invalid(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http)
    enter(http, meeting)
    response = http.get("/v2/users/me/token", headers=bearer(alice["access_token"]),
                        params={"type": "onbehalf", "meeting_id": meeting["meeting_number"],
                                "ttl": 60})
    advance(http, 60)
    message = refused(join(http, sim_state, meeting, obf=response.json()["token"]), 403,
                      "MEETING_FAIL_ON_BEHALF_TOKEN_INVALID", 505)
    assert "expired" in message


def test_another_apps_token_is_refused(http, sim_state):
    http.post("/_sim/apps", json={"client_id": "other-app", "client_secret": "other-secret",
                                  "redirect_uris": [REDIRECT_URI],
                                  "scopes": ["user:read:user", "user:read:token"]})
    code = authorize(http, ALICE_ID, client_id="other-app")
    other_tokens = exchange(http, code, auth=("other-app", "other-secret")).json()
    meeting = new_meeting(http)
    enter(http, meeting)
    other_apps_token = mint(http, other_tokens["access_token"], meeting)
    # The demo app's bot presents a token that the user gave "other-app".
    message = refused(join(http, sim_state, meeting, obf=other_apps_token), 403,
                      "MEETING_FAIL_ON_BEHALF_TOKEN_INVALID", 505)
    assert "another app" in message
    # The same token with other-app's own JWT: it was not used up by the refusal above.
    jwt = sdk_jwt(sim_state, meeting, client_id="other-app", secret="other-secret")
    joined = join(http, sim_state, meeting, obf=other_apps_token, jwt=jwt)
    assert joined.status_code == 201, joined.text
    assert joined.json()["client_id"] == "other-app"


def test_revoked_grants_token_is_invalid(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http)
    enter(http, meeting)
    token = mint(http, alice["access_token"], meeting)
    http.post(f"/_sim/users/{ALICE_ID}/revoke")
    message = refused(join(http, sim_state, meeting, obf=token), 403,
                      "MEETING_FAIL_ON_BEHALF_TOKEN_INVALID", 505)
    assert "revoked" in message


def test_authorizing_user_not_in_meeting_uses_up_the_token(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http)
    enter(http, meeting, BOB_ID)  # someone else is there, not Alice
    token = mint(http, alice["access_token"], meeting)
    message = refused(join(http, sim_state, meeting, obf=token), 403,
                      "AUTHORIZED_USER_NOT_INMEETING", 501)
    assert ALICE_ID in message
    enter(http, meeting)
    # Alice is in now, but the token died with the refused attempt, as with real Zoom.
    refused(join(http, sim_state, meeting, obf=token), 403,
            "MEETING_FAIL_ON_BEHALF_TOKEN_INVALID", 505)
    fresh = join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting))
    assert fresh.status_code == 201, fresh.text


# -- the checks before the token ----------------------------------------------------------

def test_unknown_meeting_is_404(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http)
    ghost = {"meeting_number": "99999999999", "passcode": "x"}
    response = join(http, sim_state, ghost, obf=mint(http, alice["access_token"], meeting))
    refused(response, 404, "MEETING_NOT_FOUND", 3001)


def _bad_jwts(sim: SimState, meeting: dict) -> dict[str, Callable[[], str]]:
    now = int(sim.now())
    number = meeting["meeting_number"]
    good = {"appKey": DEMO_CLIENT_ID, "sdkKey": DEMO_CLIENT_ID, "mn": number, "role": 0,
            "iat": now - 30, "exp": now + 3600, "tokenExp": now + 3600}

    def payload(**changes: object) -> str:
        claims = {**good, **changes}
        return sign_hs256({k: v for k, v in claims.items() if v is not None}, DEMO_CLIENT_SECRET)

    return {
        "wrong_secret": lambda: encode_sdk_jwt(DEMO_CLIENT_ID, "not-the-secret", number,
                                               iat=now, exp=now + 3600),
        "wrong_mn": lambda: payload(mn=str(int(number) + 1)),
        "expired": lambda: payload(iat=now - 7200, exp=now - 1, tokenExp=now - 1),
        "too_long": lambda: payload(exp=now - 30 + 48 * 3600 + 1, tokenExp=now + 48 * 3600),
        "too_short": lambda: payload(exp=now - 30 + 1799, tokenExp=now - 30 + 1799),
        "malformed_garbage": lambda: "not-a-jwt",
        "malformed_empty": lambda: "",
        "malformed_segments": lambda: "a.b.c",
        "malformed_payload": lambda: "eyJhbGciOiJIUzI1NiJ9.W10.c2ln",  # payload is []
        "alg_none": lambda: sign_hs256(good, DEMO_CLIENT_SECRET, {"alg": "none", "typ": "JWT"}),
        "unknown_app": lambda: encode_sdk_jwt("ghost-app", DEMO_CLIENT_SECRET, number,
                                              iat=now, exp=now + 3600),
        "sdk_key_mismatch": lambda: payload(sdkKey="someone-else"),
        "role_2": lambda: payload(role=2),
        "missing_iat": lambda: payload(iat=None),
    }


BAD_JWT_RULES = {
    "wrong_secret": "signature", "wrong_mn": "meeting_number", "expired": "expired",
    "too_long": "lifetime", "too_short": "lifetime", "malformed_garbage": "malformed",
    "malformed_empty": "malformed", "malformed_segments": "malformed",
    "malformed_payload": "malformed", "alg_none": "algorithm", "unknown_app": "app_key",
    "sdk_key_mismatch": "app_key", "role_2": "role", "missing_iat": "claims",
}


@pytest.mark.parametrize("case", sorted(BAD_JWT_RULES))
def test_bad_sdk_jwt_is_refused_before_the_token_is_touched(http, sim_state, case):
    alice = connect(http)
    meeting = new_meeting(http)
    enter(http, meeting)
    token = mint(http, alice["access_token"], meeting)
    jwt = _bad_jwts(sim_state, meeting)[case]()
    message = refused(join(http, sim_state, meeting, obf=token, jwt=jwt), 401, "JWT_INVALID", 1)
    assert message.startswith(f"Invalid SDK JWT ({BAD_JWT_RULES[case]}): ")
    assert join(http, sim_state, meeting, obf=token).status_code == 201  # token still fresh


def test_sdk_jwt_expires_on_the_sim_clock(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http)
    enter(http, meeting)
    jwt = sdk_jwt(sim_state, meeting, lifetime=1800)
    advance(http, 1800)
    message = refused(join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting),
                           jwt=jwt), 401, "JWT_INVALID", 1)
    assert "expired" in message and "sim clock" in message


@pytest.mark.parametrize("passcode", ["wrong", None, ""])
def test_wrong_or_missing_passcode_is_refused_before_the_token(http, sim_state, passcode):
    alice = connect(http)
    meeting = new_meeting(http)
    enter(http, meeting)
    token = mint(http, alice["access_token"], meeting)
    refused(join(http, sim_state, meeting, obf=token, passcode=passcode), 403, "WRONG_PASSCODE", 5)
    assert join(http, sim_state, meeting, obf=token).status_code == 201


def test_a_token_is_required_and_only_one(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http)
    enter(http, meeting)
    refused(join(http, sim_state, meeting), 403,
            "MEETING_FAIL_APP_CAN_NOT_ANONYMOUS_JOIN_MEETING", 504)
    both = join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting),
                zak=mint(http, alice["access_token"], kind="zak"))
    assert both.status_code == 400
    assert both.json()["error"] == "invalid_request"
    missing_name = http.post(f"/_sim/meetings/{meeting['meeting_number']}/bots",
                             json={"sdk_jwt": sdk_jwt(sim_state, meeting)})
    assert missing_name.status_code == 400


# -- ZAK ----------------------------------------------------------------------------------

def test_zak_joins_as_the_user_without_them_in_the_meeting(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http)
    zak = mint(http, alice["access_token"], kind="zak")
    response = join(http, sim_state, meeting, zak=zak)
    assert response.status_code == 201, response.text
    bot = response.json()
    assert (bot["token_type"], bot["on_behalf_of"], bot["zak_user_id"]) == ("zak", None, ALICE_ID)
    refused(join(http, sim_state, meeting, zak=zak), 403, "MEETING_FAIL_ZAK_TOKEN_INVALID", 507)
    obf_as_zak = join(http, sim_state, meeting, zak=mint(http, alice["access_token"], meeting))
    refused(obf_as_zak, 403, "MEETING_FAIL_ZAK_TOKEN_INVALID", 507)
    # Alice coming and going does not concern a ZAK bot.
    enter(http, meeting)
    http.delete(f"/_sim/meetings/{meeting['meeting_number']}/participants/{ALICE_ID}")
    assert http.get(bot_path(meeting, bot["bot_id"])).json()["state"] == "in_meeting"


# -- leaving, removal, meeting end, long-poll ---------------------------------------------

def test_bot_removed_when_authorizing_user_leaves_and_long_poll_wakes_at_once(
        http, sim_state, base_url):
    alice, bob = connect(http), connect(http, BOB_ID)
    meeting = new_meeting(http)
    enter(http, meeting)
    enter(http, meeting, BOB_ID)
    alices_bot = joined_bot(http, sim_state, meeting, alice["access_token"], "Alice's notes")
    bobs_bot = joined_bot(http, sim_state, meeting, bob["access_token"], "Bob's notes")

    poll = poll_in_background(base_url, bot_path(meeting, alices_bot["bot_id"]), wait=30)
    long_poll_waiting(sim_state, meeting)
    assert not poll.done()  # still in the meeting: the poll waits
    http.delete(f"/_sim/meetings/{meeting['meeting_number']}/participants/{ALICE_ID}")
    response = poll.result(timeout=15)  # answered well before its 30 s wait: woken
    bot = response.json()
    assert (bot["state"], bot["end_reason"]) == ("removed", "DueToAuthorizedUserLeave")
    assert bot["left_at"] is not None

    view = http.get(f"/_sim/meetings/{meeting['meeting_number']}").json()
    states = {b["bot_name"]: (b["state"], b["end_reason"]) for b in view["bots"]}
    assert states == {"Alice's notes": ("removed", "DueToAuthorizedUserLeave"),
                      "Bob's notes": ("in_meeting", None)}
    assert http.get(bot_path(meeting, bobs_bot["bot_id"])).json()["state"] == "in_meeting"


def test_long_poll_times_out_with_the_bot_still_in(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http)
    enter(http, meeting)
    bot = joined_bot(http, sim_state, meeting, alice["access_token"])
    response = http.get(bot_path(meeting, bot["bot_id"]), params={"wait": 0.3})
    assert response.status_code == 200 and response.json()["state"] == "in_meeting"
    assert http.get(bot_path(meeting, bot["bot_id"]), params={"wait": 31}).status_code == 400
    assert http.get(bot_path(meeting, bot["bot_id"]), params={"wait": -1}).status_code == 400


def test_long_poll_on_a_bot_already_out_answers_at_once(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http)
    enter(http, meeting)
    bot = joined_bot(http, sim_state, meeting, alice["access_token"])
    http.delete(bot_path(meeting, bot["bot_id"]))
    # A client that gives up long before the 30 s wait still gets the answer: nothing waited.
    answer = http.get(bot_path(meeting, bot["bot_id"]), params={"wait": 30}, timeout=15)
    assert answer.json()["state"] == "left"


def test_bot_leaves(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http)
    enter(http, meeting)
    bot = joined_bot(http, sim_state, meeting, alice["access_token"])
    left = http.delete(bot_path(meeting, bot["bot_id"]))
    assert left.status_code == 200
    assert (left.json()["state"], left.json()["end_reason"]) == ("left", "LeftByBot")
    assert left.json()["left_at"] is not None
    # Leaving again, or the user leaving afterwards, changes nothing.
    assert http.delete(bot_path(meeting, bot["bot_id"])).json() == left.json()
    http.delete(f"/_sim/meetings/{meeting['meeting_number']}/participants/{ALICE_ID}")
    assert http.get(bot_path(meeting, bot["bot_id"])).json() == left.json()
    view = http.get(f"/_sim/meetings/{meeting['meeting_number']}").json()
    assert view["bots"] == [left.json()]


def test_unknown_bots_are_404(http, sim_state):
    alice = connect(http)
    meeting, other = new_meeting(http), new_meeting(http)
    enter(http, meeting)
    bot = joined_bot(http, sim_state, meeting, alice["access_token"])
    for response in (http.get(bot_path(meeting, "simbot_ghost")),
                     http.get(bot_path(meeting, "simbot_ghost"), params={"wait": 5}),
                     http.delete(bot_path(meeting, "simbot_ghost")),
                     http.get(bot_path(other, bot["bot_id"])),  # it is in another meeting
                     http.get(f"/_sim/meetings/99999999999/bots/{bot['bot_id']}")):
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"


def test_meeting_end_puts_everyone_out(http, sim_state, base_url):
    alice, bob = connect(http), connect(http, BOB_ID)
    meeting = new_meeting(http)
    number = meeting["meeting_number"]
    enter(http, meeting)
    enter(http, meeting, BOB_ID)
    first = joined_bot(http, sim_state, meeting, alice["access_token"], "first")
    second = joined_bot(http, sim_state, meeting, bob["access_token"], "second")
    gone = joined_bot(http, sim_state, meeting, alice["access_token"], "gone")
    http.delete(bot_path(meeting, gone["bot_id"]))

    poll = poll_in_background(base_url, bot_path(meeting, first["bot_id"]), wait=30)
    long_poll_waiting(sim_state, meeting)
    ended = http.post(f"/_sim/meetings/{number}/end")
    assert ended.status_code == 200
    response = poll.result(timeout=15)  # woken by the end, not by its 30 s wait
    assert (response.json()["state"], response.json()["end_reason"]) == ("removed", "MeetingEnded")

    view = ended.json()
    assert view["participants"] == []
    assert view["ended_at"] is not None
    assert {b["bot_name"]: (b["state"], b["end_reason"]) for b in view["bots"]} == {
        "first": ("removed", "MeetingEnded"), "second": ("removed", "MeetingEnded"),
        "gone": ("left", "LeftByBot")}
    assert http.get(bot_path(meeting, second["bot_id"])).json()["state"] == "removed"
    assert http.post("/_sim/meetings/99999999999/end").status_code == 404
    # The meeting is over: a new OBF attempt is refused, even once Alice is back.
    refused(join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting)), 403,
            "MEETING_FAIL_MEETING_OVER", 6)
    enter(http, meeting)
    refused(join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting)), 403,
            "MEETING_FAIL_MEETING_OVER", 6)


def test_reset_wakes_long_polls(http, sim_state, base_url):
    alice = connect(http)
    meeting = new_meeting(http)
    enter(http, meeting)
    bot = joined_bot(http, sim_state, meeting, alice["access_token"])
    poll = poll_in_background(base_url, bot_path(meeting, bot["bot_id"]), wait=30)
    long_poll_waiting(sim_state, meeting)
    sim_state.reset()  # from this (test) thread, not the server's
    response = poll.result(timeout=15)  # woken by the reset, not by its 30 s wait
    assert response.status_code == 404


def test_stats_count_bot_joins_and_refusals(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http)
    token = mint(http, alice["access_token"], meeting)
    refused(join(http, sim_state, meeting, obf=token), 403, "AUTHORIZED_USER_NOT_INMEETING", 501)
    enter(http, meeting)
    refused(join(http, sim_state, meeting, obf=token), 403,
            "MEETING_FAIL_ON_BEHALF_TOKEN_INVALID", 505)
    refused(join(http, sim_state, meeting, obf=token, jwt="x"), 401, "JWT_INVALID", 1)
    joined_bot(http, sim_state, meeting, alice["access_token"])
    joined_bot(http, sim_state, meeting, alice["access_token"])
    stats = http.get("/_sim/stats").json()
    assert stats["bot_joins"] == 2
    assert stats["bot_join_refusals"] == 3
    assert stats["bot_join_refusals_by_error"] == {
        "AUTHORIZED_USER_NOT_INMEETING": 1, "JWT_INVALID": 1,
        "MEETING_FAIL_ON_BEHALF_TOKEN_INVALID": 1}
    http.post("/_sim/reset")
    stats = http.get("/_sim/stats").json()
    assert (stats["bot_joins"], stats["bot_join_refusals"]) == (0, 0)
    assert stats["bot_join_refusals_by_error"] == {}


# -- ended meetings, host notifications, the obf_refusal fault ----------------------------

def test_ended_meeting_is_refused_before_the_token_is_touched(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http)
    enter(http, meeting)
    assert http.post(f"/_sim/meetings/{meeting['meeting_number']}/end").status_code == 200
    token = mint(http, alice["access_token"], meeting)
    message = refused(join(http, sim_state, meeting, obf=token), 403,
                      "MEETING_FAIL_MEETING_OVER", 6)
    assert message == f"Meeting {meeting['meeting_number']} has ended"
    # Checked before the JWT, the passcode and the token: none of them matters.
    refused(join(http, sim_state, meeting, obf=token, jwt="x", passcode="nope"), 403,
            "MEETING_FAIL_MEETING_OVER", 6)
    refused(join(http, sim_state, meeting, zak=mint(http, alice["access_token"], kind="zak")),
            403, "MEETING_FAIL_MEETING_OVER", 6)
    enter(http, meeting)  # users may come back; the meeting stays over for bots
    refused(join(http, sim_state, meeting, obf=token), 403, "MEETING_FAIL_MEETING_OVER", 6)

    assert sim_state.grants.minted[token].used is False
    assert meeting_view(http, meeting)["host_notifications"] == 0
    stats = http.get("/_sim/stats").json()
    assert stats["bot_join_refusals_by_error"] == {"MEETING_FAIL_MEETING_OVER": 4}
    assert stats["host_notifications"] == 0
    # Were the meeting open again, the very same token would get in.
    sim_state.meetings[meeting["meeting_number"]].ended_at = None
    assert join(http, sim_state, meeting, obf=token).status_code == 201


def test_host_notifications_count_refused_obf_joins_per_meeting(http, sim_state):
    alice = connect(http)
    meeting, other = new_meeting(http), new_meeting(http)
    enter(http, meeting, BOB_ID)  # someone else is there, not Alice
    assert meeting_view(http, meeting)["host_notifications"] == 0
    assert http.get("/_sim/stats").json()["host_notifications"] == 0

    # Refusals before the user check notify nobody.
    token = mint(http, alice["access_token"], meeting)
    refused(join(http, sim_state, meeting, obf=token, passcode="wrong"), 403, "WRONG_PASSCODE", 5)
    refused(join(http, sim_state, meeting, obf=token, jwt="x"), 401, "JWT_INVALID", 1)
    refused(join(http, sim_state, meeting), 403,
            "MEETING_FAIL_APP_CAN_NOT_ANONYMOUS_JOIN_MEETING", 504)
    refused(join(http, sim_state, meeting, obf=mint(http, alice["access_token"], other)), 403,
            "MEETING_FAIL_ON_BEHALF_TOKEN_NOT_MATCH_MEETING", 506)
    assert meeting_view(http, meeting)["host_notifications"] == 0

    # Each OBF join refused because Alice is not in notifies the host once.
    refused(join(http, sim_state, meeting, obf=token), 403, "AUTHORIZED_USER_NOT_INMEETING", 501)
    refused(join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting)), 403,
            "AUTHORIZED_USER_NOT_INMEETING", 501)
    refused(join(http, sim_state, other, obf=mint(http, alice["access_token"], other)), 403,
            "AUTHORIZED_USER_NOT_INMEETING", 501)
    assert meeting_view(http, meeting)["host_notifications"] == 2
    assert meeting_view(http, other)["host_notifications"] == 1

    # Neither a used-up token, nor a ZAK bot, nor a bot whose user is in notifies anyone.
    refused(join(http, sim_state, meeting, obf=token), 403,
            "MEETING_FAIL_ON_BEHALF_TOKEN_INVALID", 505)
    assert join(http, sim_state, meeting,
                zak=mint(http, alice["access_token"], kind="zak")).status_code == 201
    enter(http, meeting)
    joined_bot(http, sim_state, meeting, alice["access_token"])
    view = meeting_view(http, meeting)
    assert view["host_notifications"] == 2
    assert view["ended_at"] is None
    ended = http.post(f"/_sim/meetings/{meeting['meeting_number']}/end").json()
    assert ended["host_notifications"] == 2  # ending the meeting keeps the count
    refused(join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting)), 403,
            "MEETING_FAIL_MEETING_OVER", 6)
    assert meeting_view(http, meeting)["host_notifications"] == 2

    assert http.get("/_sim/stats").json()["host_notifications"] == 3
    http.post("/_sim/reset")
    assert http.get("/_sim/stats").json()["host_notifications"] == 0


@pytest.mark.parametrize(("fault", "code"), [("AUTHORIZED_USER_NOT_INMEETING", 501),
                                             ("MEETING_FAIL_UNKNOWN", 65535),
                                             ("MEETING_FAIL_MEETING_OVER", 6)])
def test_obf_refusal_fault_names_the_answer_for_a_user_not_in_meeting(http, sim_state, fault,
                                                                       code):
    response = http.post("/_sim/faults", json={"obf_refusal": fault})
    assert response.status_code == 200, response.text
    assert response.json()["obf_refusal"] == fault
    alice = connect(http)
    meeting = new_meeting(http)
    token = mint(http, alice["access_token"], meeting)
    message = refused(join(http, sim_state, meeting, obf=token), 403, fault, code)
    # Whatever the name, the message says what really happened.
    assert message == (f"The authorizing user {ALICE_ID} is not in meeting "
                       f"{meeting['meeting_number']}; the on-behalf token is used up, mint a new "
                       "one for the next attempt")
    view = meeting_view(http, meeting)
    assert (view["host_notifications"], view["ended_at"]) == (1, None)
    enter(http, meeting)
    refused(join(http, sim_state, meeting, obf=token), 403,
            "MEETING_FAIL_ON_BEHALF_TOKEN_INVALID", 505)  # used up by the refusal
    joined_bot(http, sim_state, meeting, alice["access_token"])  # the meeting is not over
    stats = http.get("/_sim/stats").json()
    assert stats["bot_join_refusals_by_error"] == {fault: 1,
                                                   "MEETING_FAIL_ON_BEHALF_TOKEN_INVALID": 1}
    assert stats["host_notifications"] == 1


def test_reset_restores_the_obf_refusal_default(http, sim_state):
    http.post("/_sim/faults", json={"obf_refusal": "MEETING_FAIL_UNKNOWN"})
    assert http.post("/_sim/reset").status_code == 200
    assert http.get("/_sim/faults").json()["obf_refusal"] == "AUTHORIZED_USER_NOT_INMEETING"
    alice = connect(http)
    meeting = new_meeting(http)
    refused(join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting)), 403,
            "AUTHORIZED_USER_NOT_INMEETING", 501)
