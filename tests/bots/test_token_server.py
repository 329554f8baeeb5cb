"""The hosted obf_url / zak_url, following the bot-side contract (zoom-platform.md section 7)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.bot_checks import assert_leave_stops_minting_at_once
from tests.support.bot_scenes import (
    Scene,
    expire_stored_access_token,
    fetch_token,
    launch_spec,
    new_meeting,
    set_bot_status,
)
from tests.support.errors import assert_error
from tests.support.http import http_get, http_post


def sim_state(scene: Scene):
    return scene.stack.sim.app.state.sim


def test_get_returns_a_fresh_single_use_obf_token_for_the_bots_meeting(scene: Scene):
    bot = scene.hosted_bot()
    spec = launch_spec(scene.stack, bot["bot_id"])
    first, second = fetch_token(scene.stack, spec), fetch_token(scene.stack, spec)
    for response in (first, second):
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        assert set(response.json()) == {"token"}
    assert first.json()["token"] != second.json()["token"], "a new token every call"
    state = sim_state(scene)
    user = state.consume_obf_token(first.json()["token"], scene.meeting.number,
                                   scene.customer.app.client_id)
    assert user == scene.alice["id"]
    with pytest.raises(Exception, match=r"(?i)used"):
        state.consume_obf_token(first.json()["token"], scene.meeting.number, scene.customer.app.client_id)
    assert scene.stack.sim.stats()["obf_mints"] >= 2


def test_zak_url_mints_a_zak_token(scene: Scene):
    spec = launch_spec(scene.stack, scene.hosted_bot()["bot_id"])
    response = fetch_token(scene.stack, spec, kind="zak")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert scene.stack.sim.stats()["zak_mints"] == 1


def test_post_fallback_with_json_body(scene: Scene):
    spec = launch_spec(scene.stack, scene.hosted_bot()["bot_id"])
    url = spec["obf_url"].replace(scene.stack.settings.public_url, scene.stack.url)
    response = http_post(url, json={"bot_id": spec["bot_id"], "meeting_number": int(spec["meeting_number"]),
                                     "webhook_secret": spec["bot_secret"]})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store" and response.json()["token"]
    wrong = http_post(url, json={"bot_id": spec["bot_id"], "meeting_number": spec["meeting_number"],
                                  "webhook_secret": "nope"})
    assert_error(wrong, 401, "invalid_bot_credentials")


def test_wrong_secret_or_unknown_bot_is_401_and_mints_nothing(scene: Scene):
    spec = launch_spec(scene.stack, scene.hosted_bot()["bot_id"])
    other = launch_spec(scene.stack, scene.hosted_bot()["bot_id"])
    for response in (fetch_token(scene.stack, spec, secret="wrong"),
                     fetch_token(scene.stack, spec, secret=other["bot_secret"]),
                     fetch_token(scene.stack, spec, bot_id="bot_doesnotexist"),
                     http_get(spec["obf_url"].replace(scene.stack.settings.public_url, scene.stack.url),
                               params={"meeting_number": spec["meeting_number"]})):
        assert_error(response, 401, "invalid_bot_credentials", "Unknown bot or wrong secret")
        assert response.headers["cache-control"] == "no-store"
    assert scene.stack.sim.stats()["obf_mints"] == 0


def test_a_meeting_that_is_not_the_bots_is_403(scene: Scene):
    spec = launch_spec(scene.stack, scene.hosted_bot()["bot_id"])
    elsewhere = new_meeting(scene.stack, scene.alice["id"])
    assert_error(fetch_token(scene.stack, spec, meeting_number=elsewhere.number), 403, "meeting_mismatch")
    assert_error(fetch_token(scene.stack, spec, meeting_number="abc"), 400, "invalid_meeting_number")
    assert scene.stack.sim.stats()["obf_mints"] == 0


def test_a_finished_bot_is_410(scene: Scene):
    spec = launch_spec(scene.stack, scene.hosted_bot()["bot_id"])
    set_bot_status(scene.stack, spec["bot_id"], "ended")
    assert_error(fetch_token(scene.stack, spec), 410, "bot_finished")


def test_a_bot_asked_to_leave_gets_no_token_at_once(scene: Scene):
    assert_leave_stops_minting_at_once(scene, [scene.stack.url])


def test_a_custom_token_server_bot_is_not_served_by_the_hosted_endpoint(scene: Scene):
    response = scene.api.post("/api/v1/bots/create_bot", json={
        "meeting_link": scene.meeting.join_url, "zoom": {"zak_url": "https://tokens.example.com/zak"}})
    spec = launch_spec(scene.stack, response.json()["bot_id"])
    spec["obf_url"] = scene.stack.settings.public_url + "/token-server/zoom/obf"
    assert_error(fetch_token(scene.stack, spec), 403, "not_hosted")


def test_an_expired_access_token_is_refreshed_once_then_reused(scene: Scene):
    spec = launch_spec(scene.stack, scene.hosted_bot()["bot_id"])
    expire_stored_access_token(scene.stack, scene.customer.account_id, scene.alice["id"])
    before = scene.stack.sim.stats()["refreshes"]
    for _ in range(3):
        assert fetch_token(scene.stack, spec).status_code == 200
    assert scene.stack.sim.stats()["refreshes"] == before + 1
    connection = scene.api.get(f"/api/v1/zoom/oauth/connections/{scene.alice['id']}").json()
    assert connection["state"] == "connected" and connection["has_refresh_token"] is True


def test_a_token_zoom_killed_early_forces_one_refresh_and_a_retry(scene: Scene):
    spec = launch_spec(scene.stack, scene.hosted_bot()["bot_id"])
    scene.stack.sim._ok(scene.stack.sim.http.post(f"/_sim/users/{scene.alice['id']}/expire-tokens"))
    before = scene.stack.sim.stats()["refreshes"]
    response = fetch_token(scene.stack, spec)
    assert response.status_code == 200, response.text
    assert scene.stack.sim.stats()["refreshes"] == before + 1


def test_revoked_grant_disconnects_and_create_bot_says_so(scene: Scene):
    spec = launch_spec(scene.stack, scene.hosted_bot()["bot_id"])
    scene.stack.sim.revoke_user(scene.alice["id"])
    response = fetch_token(scene.stack, spec)
    assert_error(response, 409, "zoom_user_disconnected",
                 f"Zoom user {scene.alice['id']} is disconnected (no valid refresh token)")
    connection = scene.api.get(f"/api/v1/zoom/oauth/connections/{scene.alice['id']}").json()
    assert connection["state"] == "disconnected" and connection["has_refresh_token"] is False
    assert_error(scene.create_bot(), 400, "zoom_user_disconnected",
                 f"Zoom user {scene.alice['id']} is disconnected (no valid refresh token)")
    again = fetch_token(scene.stack, spec)
    assert_error(again, 409, "zoom_user_disconnected")


def test_zoom_failing_with_503_disconnects_nobody(scene: Scene):
    spec = launch_spec(scene.stack, scene.hosted_bot()["bot_id"])
    expire_stored_access_token(scene.stack, scene.customer.account_id, scene.alice["id"])
    scene.stack.sim.faults(rate_5xx=1.0)
    try:
        for _ in range(2):
            response = fetch_token(scene.stack, spec)
            assert_error(response, 503, "zoom_unavailable")
            assert int(response.headers["retry-after"]) >= 1
    finally:
        scene.stack.sim.faults(rate_5xx=0.0)
    connection = scene.api.get(f"/api/v1/zoom/oauth/connections/{scene.alice['id']}").json()
    assert connection["state"] == "connected" and connection["has_refresh_token"] is True
    assert fetch_token(scene.stack, spec).status_code == 200, "works again once Zoom is back"


def test_zoom_rate_limiting_is_retried_then_answered_503(scene: Scene):
    spec = launch_spec(scene.stack, scene.hosted_bot()["bot_id"])
    scene.stack.sim.faults(rate_429=1.0)
    try:
        response = fetch_token(scene.stack, spec)
    finally:
        scene.stack.sim.faults(rate_429=0.0)
    assert_error(response, 503, "zoom_unavailable")
    assert scene.stack.sim.stats()["faults_429"] > 1, "retried before giving up"


def test_wrong_app_credentials_never_touch_the_connection(scene: Scene):
    spec = launch_spec(scene.stack, scene.hosted_bot()["bot_id"])
    scene.api.put("/api/v1/zoom/oauth/app", json={"client_id": scene.customer.app.client_id,
                                                  "client_secret": "wrong"})
    expire_stored_access_token(scene.stack, scene.customer.account_id, scene.alice["id"])
    assert_error(fetch_token(scene.stack, spec), 502, "zoom_app_credentials_invalid")
    connection = scene.api.get(f"/api/v1/zoom/oauth/connections/{scene.alice['id']}").json()
    assert connection["state"] == "connected" and connection["has_refresh_token"] is True


def test_zoom_user_id_picks_one_of_the_bots_authorizing_users(scene: Scene):
    bob, carol = scene.stack.sim.create_user("Bob"), scene.stack.sim.create_user("Carol")
    for user in (bob, carol):
        assert scene.customer.connect(user["id"]).status_code == 200
    created = scene.create_bot(zoom={"use_zoom_obf": True,
                                     "zoom_oauth_connection_user_ids": [scene.alice["id"], bob["id"]]})
    assert created.status_code == 201, created.text
    spec = launch_spec(scene.stack, created.json()["bot_id"])
    assert spec["zoom_user_ids"] == [scene.alice["id"], bob["id"]]
    url = spec["obf_url"].replace(scene.stack.settings.public_url, scene.stack.url)
    headers = {"X-Bot-Id": spec["bot_id"], "X-Webhook-Secret": spec["bot_secret"]}

    def mint(**params) -> httpx.Response:
        return http_get(url, params={"meeting_number": spec["meeting_number"], **params}, headers=headers)

    state, client_id = sim_state(scene), scene.customer.app.client_id
    for params, user in (({}, scene.alice), ({"zoom_user_id": bob["id"]}, bob)):
        response = mint(**params)
        assert response.status_code == 200, response.text
        token = response.json()["token"]
        assert state.consume_obf_token(token, scene.meeting.number, client_id) == user["id"]
    posted = http_post(url, json={"bot_id": spec["bot_id"], "meeting_number": spec["meeting_number"],
                                   "webhook_secret": spec["bot_secret"], "zoom_user_id": bob["id"]})
    assert posted.status_code == 200
    assert state.consume_obf_token(posted.json()["token"], scene.meeting.number, client_id) == bob["id"]

    before = scene.stack.sim.stats()["obf_mints"]
    for stranger in (carol["id"], "nobody42"):
        assert_error(mint(zoom_user_id=stranger), 403, "not_a_candidate",
                     f"Zoom user {stranger} is not one of this bot's authorizing users")
    assert scene.stack.sim.stats()["obf_mints"] == before, "nothing minted for a stranger"


def test_an_over_long_zoom_user_id_is_refused_and_mints_nothing(scene: Scene):
    # The GET route reads ordinary requests itself (lean_routes.py); this one goes to FastAPI's
    # validation, which answers as the rest of the API does.
    spec = launch_spec(scene.stack, scene.hosted_bot()["bot_id"])
    url = spec["obf_url"].replace(scene.stack.settings.public_url, scene.stack.url)
    headers = {"X-Bot-Id": spec["bot_id"], "X-Webhook-Secret": spec["bot_secret"]}
    before = scene.stack.sim.stats()["obf_mints"]
    for length, status, code in ((201, 400, "invalid_request"), (200, 403, "not_a_candidate")):
        answer = http_get(url, headers=headers, params={"meeting_number": spec["meeting_number"],
                                                        "zoom_user_id": "u" * length})
        assert_error(answer, status, code)
        assert answer.headers["cache-control"] == "no-store"
    assert scene.stack.sim.stats()["obf_mints"] == before
