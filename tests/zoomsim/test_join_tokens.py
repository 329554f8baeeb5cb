"""Local-recording join tokens (`GET /v2/meetings/{id}/jointoken/local_recording`) and bots
joining with them: host-only minting, single use, 120 s lifetime, meeting binding, death with the
grant, `can_record`, and bypassing a meeting's waiting room."""

from __future__ import annotations

import time

import pytest

from obfbroker.zoomsim.models import ApiError, TokenConsumeError
from obfbroker.zoomsim.seed import ALICE_ID, BOB_ID, DEMO_CLIENT_ID
from tests.zoomsim.helpers import (
    DEMO_AUTH,
    advance,
    bearer,
    connect,
    enter,
    join,
    meeting_view,
    mint,
    mint_join_token,
    new_meeting,
    refused,
    request_join_token,
)

JOIN_SCOPE = "meeting_token:read:local_recording"
INVALID_JOIN_TOKEN = ("MEETING_FAIL_JOIN_TOKEN_INVALID", 508)


def join_token_refused(response, reason: str) -> str:
    message = refused(response, 403, *INVALID_JOIN_TOKEN)
    assert message.endswith(f"(reason: {reason})"), message
    return message


# -- minting ------------------------------------------------------------------------------

def test_the_host_mints_single_use_join_tokens_of_120_seconds(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http)
    answers = [request_join_token(http, alice["access_token"], meeting["meeting_number"], flag)
               for flag in (None, "true", "false")]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert set(body) == {"token", "expire_in"}
        assert body["expire_in"] == 120
        assert body["token"].startswith("simjoin_")
    tokens = [answer.json()["token"] for answer in answers]
    assert len(set(tokens)) == 3
    records = [sim_state.grants.minted[token] for token in tokens]
    assert [r.bypass_waiting_room for r in records] == [False, True, False]
    assert {(r.kind, r.meeting_number, r.client_id, r.user_id) for r in records} == {
        ("local_recording", meeting["meeting_number"], DEMO_CLIENT_ID, ALICE_ID)}
    assert records[0].expires_at - sim_state.now() == pytest.approx(120, abs=5)
    stats = http.get("/_sim/stats").json()
    assert (stats["join_token_mints"], stats["join_token_requests"]) == (3, 3)
    assert stats["per_user"][ALICE_ID]["join_token_mints"] == 3
    assert (stats["obf_mints"], stats["zak_mints"]) == (0, 0)


def test_a_non_hosts_grant_is_refused_as_not_meeting_host(http, sim_state):
    bob = connect(http, BOB_ID)
    meeting = new_meeting(http)  # Alice hosts it
    enter(http, meeting, BOB_ID)  # being in the meeting does not make Bob its host
    answer = request_join_token(http, bob["access_token"], meeting["meeting_number"], "true")
    assert (answer.status_code, answer.json()) == (400, {"code": 3003, "message": "Not meeting host."})
    bobs_own = new_meeting(http, BOB_ID)
    assert request_join_token(http, bob["access_token"], bobs_own["meeting_number"]).status_code == 200
    stats = http.get("/_sim/stats").json()
    assert (stats["join_token_mints"], stats["join_token_requests"]) == (1, 2)


@pytest.mark.parametrize("meeting_id", ["99999999999", "not-a-number"])
def test_an_unknown_meeting_is_3001(http, meeting_id):
    alice = connect(http)
    new_meeting(http)
    answer = request_join_token(http, alice["access_token"], meeting_id)
    assert (answer.status_code, answer.json()) == (
        404, {"code": 3001, "message": f"Meeting does not exist: {meeting_id}."})


def test_the_local_recording_scope_is_required(http):
    narrow = connect(http, scopes=["user:read:user", "user:read:token", "user:read:zak"])
    meeting = new_meeting(http)
    expected = (400, {"code": 4711, "message":
                      f"Invalid access token, does not contain scopes:[{JOIN_SCOPE}]."})
    answer = request_join_token(http, narrow["access_token"], meeting["meeting_number"])
    assert (answer.status_code, answer.json()) == expected
    # The scope is checked before the meeting and the parameters.
    for meeting_id, flag in (("99999999999", None), (meeting["meeting_number"], "yes")):
        answer = request_join_token(http, narrow["access_token"], meeting_id, flag)
        assert (answer.status_code, answer.json()) == expected
    only_it = connect(http, scopes=[JOIN_SCOPE])
    assert request_join_token(http, only_it["access_token"], meeting["meeting_number"]).status_code == 200


@pytest.mark.parametrize("flag", ["yes", "True", "1", ""])
def test_bypass_waiting_room_takes_only_true_or_false(http, flag):
    alice = connect(http)
    meeting = new_meeting(http)
    answer = request_join_token(http, alice["access_token"], meeting["meeting_number"], flag)
    assert (answer.status_code, answer.json()) == (
        400, {"code": 300, "message": "Invalid parameter: bypass_waiting_room."})
    assert http.get("/_sim/stats").json()["join_token_mints"] == 0


def test_join_token_calls_authenticate_like_the_other_v2_calls(http):
    alice = connect(http)
    meeting = new_meeting(http)
    path = f"/v2/meetings/{meeting['meeting_number']}/jointoken/local_recording"
    invalid = (401, {"code": 124, "message": "Invalid access token."})
    in_query = http.get(path, params={"access_token": alice["access_token"]},
                        headers=bearer(alice["access_token"]))
    assert (in_query.status_code, in_query.json()) == invalid
    for headers in ({}, bearer("simat_made-up"), {"Authorization": f"Basic {alice['access_token']}"}):
        answer = http.get(path, headers=headers)
        assert (answer.status_code, answer.json()) == invalid
    advance(http, 3600)
    expired = http.get(path, headers=bearer(alice["access_token"]))
    assert (expired.status_code, expired.json()) == (
        401, {"code": 124, "message": "Access token is expired."})

    fresh = connect(http)
    assert http.delete(f"/_sim/users/{ALICE_ID}").status_code == 200
    gone = http.get(path, headers=bearer(fresh["access_token"]))
    assert (gone.status_code, gone.json()) == (
        404, {"code": 1001, "message": f"User does not exist: {ALICE_ID}."})


def test_an_ended_meeting_still_mints_but_admits_no_bot(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http)
    enter(http, meeting)
    http.post(f"/_sim/meetings/{meeting['meeting_number']}/end")
    token = mint_join_token(http, alice["access_token"], meeting)
    enter(http, meeting)
    refused(join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting),
                 join_token=token), 403, "MEETING_FAIL_MEETING_OVER", 6)
    assert sim_state.grants.minted[token].used is False


def test_faults_apply_to_join_token_calls(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http)
    http.post("/_sim/faults", json={"rate_5xx": 1})
    answers = [request_join_token(http, alice["access_token"], meeting["meeting_number"])
               for _ in range(3)]
    assert sorted(a.status_code for a in answers) == [500, 502, 503]
    http.post("/_sim/faults", json={"rate_5xx": 0, "rate_429": 1})
    limited = request_join_token(http, alice["access_token"], meeting["meeting_number"])
    assert limited.status_code == 429
    assert limited.json()["code"] == 429 and limited.headers["Retry-After"] == "1"
    # Faulted requests never reached the handler: nothing minted, nothing counted.
    stats = http.get("/_sim/stats").json()
    assert (stats["join_token_mints"], stats["join_token_requests"]) == (0, 0)
    assert (stats["faults_5xx"], stats["faults_429"]) == (3, 1)

    http.post("/_sim/faults", json={"rate_429": 0, "latency_ms": 300})
    started = time.monotonic()
    assert request_join_token(http, alice["access_token"], meeting["meeting_number"]).status_code == 200
    assert time.monotonic() - started >= 0.3


# -- joining with a join token ------------------------------------------------------------

def test_a_bot_with_a_join_token_may_record(http, sim_state):
    alice, bob = connect(http), connect(http, BOB_ID)
    meeting = new_meeting(http)
    enter(http, meeting, BOB_ID)
    # The host's join token beside Bob's OBF token: the bot is Bob's and may record.
    token = mint_join_token(http, alice["access_token"], meeting)
    response = join(http, sim_state, meeting, obf=mint(http, bob["access_token"], meeting),
                    join_token=token)
    assert response.status_code == 201, response.text
    bot = response.json()
    assert (bot["state"], bot["on_behalf_of"]) == ("in_meeting", BOB_ID)
    assert (bot["used_join_token"], bot["can_record"]) == (True, True)
    assert sim_state.grants.minted[token].used is True

    plain = join(http, sim_state, meeting, obf=mint(http, bob["access_token"], meeting)).json()
    assert (plain["state"], plain["used_join_token"], plain["can_record"]) == ("in_meeting", False,
                                                                               False)
    zak_bot = join(http, sim_state, meeting, zak=mint(http, bob["access_token"], kind="zak"),
                   join_token=mint_join_token(http, alice["access_token"], meeting)).json()
    assert (zak_bot["token_type"], zak_bot["can_record"]) == ("zak", True)
    assert [b["can_record"] for b in meeting_view(http, meeting)["bots"]] == [True, False, True]


def test_a_join_token_works_once(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http)
    enter(http, meeting)
    token = mint_join_token(http, alice["access_token"], meeting)
    first = join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting),
                 join_token=token)
    assert first.status_code == 201, first.text
    again = join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting),
                 join_token=token)
    assert "already used" in join_token_refused(again, "used")
    made_up = join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting),
                   join_token="simjoin_made-up")
    join_token_refused(made_up, "unknown")
    # Other kinds of token are not join tokens, and a join token is no OBF token.
    not_join = join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting),
                    join_token=mint(http, alice["access_token"], meeting))
    join_token_refused(not_join, "unknown")
    as_obf = join(http, sim_state, meeting, obf=mint_join_token(http, alice["access_token"], meeting))
    refused(as_obf, 403, "MEETING_FAIL_ON_BEHALF_TOKEN_INVALID", 505)
    stats = http.get("/_sim/stats").json()
    assert stats["bot_join_refusals_by_error"] == {"MEETING_FAIL_JOIN_TOKEN_INVALID": 3,
                                                   "MEETING_FAIL_ON_BEHALF_TOKEN_INVALID": 1}


def test_a_join_token_expires_after_120_simulated_seconds(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http)
    enter(http, meeting)
    early, late = (mint_join_token(http, alice["access_token"], meeting) for _ in range(2))
    advance(http, 119)
    in_time = join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting),
                   join_token=early)
    assert in_time.status_code == 201, in_time.text
    advance(http, 1)
    too_late = join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting),
                    join_token=late)
    assert "expired" in join_token_refused(too_late, "expired")


def test_a_join_token_is_bound_to_its_meeting(http, sim_state):
    alice = connect(http)
    meeting, other = new_meeting(http), new_meeting(http)
    enter(http, meeting)
    enter(http, other)
    others_token = mint_join_token(http, alice["access_token"], other)
    wrong = join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting),
                 join_token=others_token)
    assert "another meeting" in join_token_refused(wrong, "wrong_meeting")
    # Refused, it stays unused: it still gets a bot into its own meeting.
    right = join(http, sim_state, other, obf=mint(http, alice["access_token"], other),
                 join_token=others_token)
    assert right.status_code == 201, right.text


def _sim_revoke(http, tokens):
    http.post(f"/_sim/users/{ALICE_ID}/revoke")


def _oauth_revoke(http, tokens):
    assert http.post("/oauth/revoke", data={"token": tokens["access_token"]},
                     auth=DEMO_AUTH).status_code == 200


def _deauthorize(http, tokens):
    assert http.post(f"/_sim/users/{ALICE_ID}/deauthorize",
                     json={"client_id": DEMO_CLIENT_ID}).json()["revoked_grants"] == 1


def _delete_user(http, tokens):
    assert http.delete(f"/_sim/users/{ALICE_ID}").status_code == 200


@pytest.mark.parametrize("kill", [_sim_revoke, _oauth_revoke, _deauthorize, _delete_user])
def test_a_dead_grant_kills_its_unused_join_tokens(http, sim_state, kill):
    alice, bob = connect(http), connect(http, BOB_ID)
    meeting = new_meeting(http)
    unused = mint_join_token(http, alice["access_token"], meeting, bypass_waiting_room=True)
    kill(http, alice)
    # Bob's ZAK bot needs nobody in the meeting; only the host's join token is dead.
    response = join(http, sim_state, meeting, zak=mint(http, bob["access_token"], kind="zak"),
                    join_token=unused)
    assert "revoked" in join_token_refused(response, "revoked")


def test_a_join_token_alone_is_refused_like_no_token(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http)
    enter(http, meeting)
    token = mint_join_token(http, alice["access_token"], meeting, bypass_waiting_room=True)
    message = refused(join(http, sim_state, meeting, join_token=token), 403,
                      "MEETING_FAIL_APP_CAN_NOT_ANONYMOUS_JOIN_MEETING", 504)
    assert "a join_token alone is not enough" in message
    assert sim_state.grants.minted[token].used is False
    assert join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting),
                join_token=token).status_code == 201


def test_the_join_token_is_checked_last(http, sim_state):
    alice = connect(http)
    meeting = new_meeting(http)
    token = mint_join_token(http, alice["access_token"], meeting)
    # Checks 1-6 answer first and leave the join token unused ...
    refused(join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting),
                 join_token=token, passcode="wrong"), 403, "WRONG_PASSCODE", 5)
    refused(join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting),
                 join_token=token, jwt="x"), 401, "JWT_INVALID", 1)
    refused(join(http, sim_state, meeting, obf="simobf_made-up", join_token=token), 403,
            "MEETING_FAIL_ON_BEHALF_TOKEN_INVALID", 505)
    refused(join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting),
                 join_token=token), 403, "AUTHORIZED_USER_NOT_INMEETING", 501)
    refused(join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting),
                 join_token="simjoin_made-up", passcode="wrong"), 403, "WRONG_PASSCODE", 5)
    assert sim_state.grants.minted[token].used is False
    # ... while a refused join token comes after the OBF token was used up (as check 6 does).
    enter(http, meeting)
    obf = mint(http, alice["access_token"], meeting)
    join_token_refused(join(http, sim_state, meeting, obf=obf, join_token="simjoin_made-up"),
                       "unknown")
    refused(join(http, sim_state, meeting, obf=obf, join_token=token), 403,
            "MEETING_FAIL_ON_BEHALF_TOKEN_INVALID", 505)
    assert join(http, sim_state, meeting, obf=mint(http, alice["access_token"], meeting),
                join_token=token).status_code == 201


def test_sim_state_mints_and_consumes_join_tokens(http, sim_state):
    connect(http)
    meeting = new_meeting(http)
    grant = next(iter(sim_state.grants.grants.values()))
    token = sim_state.mint_join_token(grant, meeting["meeting_number"], bypass_waiting_room=True)
    with pytest.raises(TokenConsumeError) as err:
        sim_state.consume_join_token(token, "1111111111")
    assert (err.value.reason, err.value.sdk_error) == ("wrong_meeting",
                                                       "MEETING_FAIL_JOIN_TOKEN_INVALID")
    record = sim_state.consume_join_token(token, int(meeting["meeting_number"]))
    assert (record.bypass_waiting_room, record.client_id, record.user_id) == (True, DEMO_CLIENT_ID,
                                                                              ALICE_ID)
    with pytest.raises(TokenConsumeError) as err:
        sim_state.consume_join_token(token, meeting["meeting_number"])
    assert err.value.reason == "used"
    bobs = new_meeting(http, BOB_ID)
    with pytest.raises(ApiError) as refusal:
        sim_state.mint_join_token(grant, bobs["meeting_number"])
    assert (refusal.value.status, refusal.value.code) == (400, 3003)
