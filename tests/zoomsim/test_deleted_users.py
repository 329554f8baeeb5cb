"""`DELETE /_sim/users/{id}`: a user deleted at Zoom. Grants die, unexpired access tokens answer
404 code 1001 (then, once expired, 401 code 124), and the user is gone from the control API."""

from __future__ import annotations

import httpx

from obfbroker.zoomsim.seed import ALICE_ID, DEMO_CLIENT_ID
from tests.zoomsim.helpers import advance, authorize, bearer, connect, exchange, refresh

USER_GONE = {"code": 1001, "message": f"User does not exist: {ALICE_ID}."}


def test_a_deleted_users_tokens_answer_user_does_not_exist(http: httpx.Client):
    tokens = connect(http)
    grants = http.get(f"/_sim/users/{ALICE_ID}/grants").json()
    assert grants == {"user_id": ALICE_ID, "grants": [
        {"client_id": DEMO_CLIENT_ID, "alive": True, "scopes": grants["grants"][0]["scopes"]}]}
    unused_code = authorize(http)

    deleted = http.delete(f"/_sim/users/{ALICE_ID}")
    assert deleted.status_code == 200 and deleted.json() == {"user_id": ALICE_ID, "revoked_grants": 1}

    for path, params in (("/v2/users/me", {}), ("/v2/users/me/token", {"type": "zak"})):
        answer = http.get(path, params=params, headers=bearer(tokens["access_token"]))
        assert (answer.status_code, answer.json()) == (404, USER_GONE)
    dead = refresh(http, tokens["refresh_token"])
    assert dead.status_code == 400 and dead.json()["error"] == "invalid_grant"
    assert exchange(http, unused_code).status_code == 400, "their unused codes died too"
    assert [g["alive"] for g in http.get(f"/_sim/users/{ALICE_ID}/grants").json()["grants"]] == [False]
    assert http.get(f"/_sim/users/{ALICE_ID}").status_code == 404
    assert ALICE_ID not in [u["id"] for u in http.get("/_sim/users").json()["users"]]
    assert http.delete(f"/_sim/users/{ALICE_ID}").status_code == 404

    advance(http, 3601)
    expired = http.get("/v2/users/me", headers=bearer(tokens["access_token"]))
    assert expired.status_code == 401 and expired.json()["code"] == 124


def test_a_user_created_again_with_a_deleted_id_is_a_new_user(http: httpx.Client):
    http.delete(f"/_sim/users/{ALICE_ID}")
    again = http.post("/_sim/users", json={"id": ALICE_ID, "email": "alice2@example.com",
                                           "display_name": "Alice Again"})
    assert again.status_code == 201, again.text
    tokens = connect(http)
    assert http.get("/v2/users/me", headers=bearer(tokens["access_token"])).json()["id"] == ALICE_ID
