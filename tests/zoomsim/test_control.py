"""The /_sim/ control API: apps, users, consent without a browser, meetings, clock, reset."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from obfbroker.zoomsim.app import create_app
from obfbroker.zoomsim.seed import (
    ALICE_ID,
    BOB_ID,
    CAROL_ID,
    DEMO_ACCOUNT_ID,
    DEMO_CLIENT_ID,
    DEMO_REDIRECT_URIS,
)
from obfbroker.zoomsim.state import SimState
from tests.zoomsim.helpers import REDIRECT_URI, authorize, connect


def test_create_app_seeds_only_known_seeds():
    assert create_app().state.sim.users == {}
    assert isinstance(create_app("demo").state.sim, SimState)
    with pytest.raises(ValueError, match="seed"):
        create_app("production")


def test_demo_seed_has_stable_app_and_users(http):
    app = http.get(f"/_sim/apps/{DEMO_CLIENT_ID}").json()
    assert app == {
        "client_id": DEMO_CLIENT_ID,
        "redirect_uris": list(DEMO_REDIRECT_URIS),
        "scopes": ["user:read:user", "user:read:token", "user:read:zak",
                   "meeting_token:read:local_recording"],
        "webhook_url": None,
        "has_webhook_secret_token": True,
    }
    users = http.get("/_sim/users").json()["users"]
    assert [(u["id"], u["email"], u["display_name"], u["status"]) for u in users] == [
        (ALICE_ID, "alice@example.com", "Alice Example", "active"),
        (BOB_ID, "bob@example.com", "Bob Example", "active"),
        (CAROL_ID, "carol@example.com", "Carol Example", "active"),
    ]
    assert {u["account_id"] for u in users} == {DEMO_ACCOUNT_ID}


def test_register_app_hides_secrets_and_can_be_updated(http):
    body = {"client_id": "c1", "client_secret": "s1", "redirect_uris": ["https://a.example/cb"],
            "scopes": ["user:read:user"], "webhook_secret_token": "w1"}
    created = http.post("/_sim/apps", json=body)
    assert created.status_code == 201
    assert "s1" not in created.text and "w1" not in created.text
    assert http.post("/_sim/apps", json=body).status_code == 200  # replacing is allowed
    patched = http.patch("/_sim/apps/c1", json={"webhook_url": "http://127.0.0.1:8000/wh"})
    assert patched.json()["webhook_url"] == "http://127.0.0.1:8000/wh"
    assert http.patch("/_sim/apps/c1", json={"redirect_uris": None}).status_code == 400
    assert http.patch("/_sim/apps/ghost", json={"webhook_url": "http://x/"}).status_code == 404
    assert [a["client_id"] for a in http.get("/_sim/apps").json()["apps"]] == [DEMO_CLIENT_ID,
                                                                                "c1"]


def test_create_user_returns_id_and_validates(http):
    created = http.post("/_sim/users", json={"email": "dan@example.com", "display_name": "Dan D"})
    assert created.status_code == 201
    user = created.json()
    assert re.fullmatch(r"[A-Za-z0-9]{22}", user["id"])
    assert (user["status"], user["first_name"], user["last_name"]) == ("active", "Dan", "D")
    assert http.get(f"/_sim/users/{user['id']}").json() == user

    chosen = http.post("/_sim/users", json={"email": "e@example.com", "display_name": "E",
                                            "id": "fixedId123", "account_id": "acct1",
                                            "status": "pending"}).json()
    assert (chosen["id"], chosen["account_id"], chosen["status"]) == ("fixedId123", "acct1",
                                                                      "pending")
    for bad in ({"email": "nope", "display_name": "X"}, {"email": "x@example.com"},
                {"email": "x@example.com", "display_name": "X", "status": "gone"}):
        response = http.post("/_sim/users", json=bad)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
    duplicate = http.post("/_sim/users", json={"email": "ALICE@example.com", "display_name": "A"})
    assert duplicate.status_code == 409


def test_unknown_ids_are_404(http):
    assert http.get("/_sim/users/ghost").status_code == 404
    assert http.get("/_sim/apps/ghost").status_code == 404
    assert http.post("/_sim/users/ghost/revoke").status_code == 404
    assert http.post("/_sim/users/ghost/expire-tokens").status_code == 404
    assert http.get("/_sim/meetings/123").json()["error"] == "not_found"
    assert http.post("/_sim/meetings", json={"host_user_id": "ghost"}).status_code == 404


def test_sim_authorize_returns_code_and_redirect(http):
    response = http.post("/_sim/authorize", json={
        "client_id": DEMO_CLIENT_ID, "user_id": BOB_ID, "redirect_uri": REDIRECT_URI,
        "state": "s p&ace"})
    assert response.status_code == 200
    body = response.json()
    query = parse_qs(urlsplit(body["redirect_to"]).query)
    assert query == {"code": [body["code"]], "state": ["s p&ace"]}
    assert body["redirect_to"].startswith(REDIRECT_URI + "?")


def test_sim_authorize_validations(http):
    base = {"client_id": DEMO_CLIENT_ID, "user_id": ALICE_ID, "redirect_uri": REDIRECT_URI}
    mismatch = http.post("/_sim/authorize", json={**base, "redirect_uri": REDIRECT_URI + "/"})
    assert mismatch.status_code == 400
    assert mismatch.json() == {"error": "invalid_request", "message": "Redirect URI mismatch.",
                               "code": 4709}
    unknown_client = http.post("/_sim/authorize", json={**base, "client_id": "nope"})
    assert (unknown_client.status_code, unknown_client.json()["error"]) == (400, "invalid_client")
    bad_scope = http.post("/_sim/authorize", json={**base, "scopes": ["meeting:write"]})
    assert (bad_scope.status_code, bad_scope.json()["error"]) == (400, "invalid_scope")
    assert http.post("/_sim/authorize", json={**base, "user_id": "ghost"}).status_code == 404
    assert http.post("/_sim/authorize", json={"client_id": DEMO_CLIENT_ID}).status_code == 400


def test_sim_authorize_scopes_narrow_the_grant(http):
    tokens = connect(http, scopes=["user:read:user"])
    assert tokens["scope"] == "user:read:user"


def test_clock_advances_and_rejects_going_back(http):
    before = http.get("/_sim/clock").json()
    after = http.post("/_sim/clock", json={"advance_seconds": 86400}).json()
    assert after["offset_seconds"] == before["offset_seconds"] + 86400
    assert after["now"] > before["now"]
    assert http.post("/_sim/clock", json={"advance_seconds": -1}).status_code == 400


def test_meetings_lifecycle(http):
    created = http.post("/_sim/meetings", json={"host_user_id": ALICE_ID})
    assert created.status_code == 201
    meeting = created.json()
    number = meeting["meeting_number"]
    assert re.fullmatch(r"\d{10,11}", number)
    assert meeting["join_url"] == f"https://zoom.us/j/{number}?pwd={meeting['passcode']}"

    joined = http.post(f"/_sim/meetings/{number}/participants", json={"user_id": ALICE_ID})
    assert [p["user_id"] for p in joined.json()["participants"]] == [ALICE_ID]
    http.post(f"/_sim/meetings/{number}/participants", json={"user_id": BOB_ID})
    view = http.get(f"/_sim/meetings/{number}").json()
    assert view["host_user_id"] == ALICE_ID
    assert view["waiting_room"] is False
    assert [p["user_id"] for p in view["participants"]] == [ALICE_ID, BOB_ID]
    assert view["bots"] == []

    left = http.delete(f"/_sim/meetings/{number}/participants/{ALICE_ID}")
    assert [p["user_id"] for p in left.json()["participants"]] == [BOB_ID]
    assert http.delete(f"/_sim/meetings/{number}/participants/{ALICE_ID}").status_code == 404
    assert http.post(f"/_sim/meetings/{number}/participants",
                     json={"user_id": "ghost"}).status_code == 404


def test_stats_count_what_clients_did(http):
    connect(http)
    stats = http.get("/_sim/stats").json()
    assert stats["code_grants"] == 1
    assert stats["token_requests"] == 1
    for key in ("refreshes", "invalid_grant", "revokes", "obf_mints", "zak_mints"):
        assert stats[key] == 0
    assert stats["per_user"][ALICE_ID]["code_grants"] == 1


def test_reset_restores_the_seed(http):
    code = authorize(http)
    http.post("/_sim/users", json={"email": "z@example.com", "display_name": "Z"})
    http.post("/_sim/faults", json={"rate_5xx": 1})
    http.post("/_sim/clock", json={"advance_seconds": 100})
    assert http.post("/_sim/reset").status_code == 200
    assert len(http.get("/_sim/users").json()["users"]) == 3
    assert http.get("/_sim/faults").json()["rate_5xx"] == 0
    assert http.get("/_sim/clock").json()["offset_seconds"] == 0
    assert http.get("/_sim/stats").json()["code_grants"] == 0
    response = http.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                               "redirect_uri": REDIRECT_URI},
                         auth=(DEMO_CLIENT_ID, "demo-client-secret"))
    assert response.status_code == 400
