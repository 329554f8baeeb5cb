"""/v2/users/me and /v2/users/me/token, and consuming minted tokens."""

from __future__ import annotations

import pytest

from obfbroker.zoomsim.models import TokenConsumeError
from obfbroker.zoomsim.seed import ALICE_ID, BOB_ID, DEMO_ACCOUNT_ID, DEMO_CLIENT_ID
from tests.zoomsim.helpers import advance, bearer, connect, refresh

INVALID = {"code": 124, "message": "Invalid access token."}
EXPIRED = {"code": 124, "message": "Access token is expired."}


def mint(http, access_token, **params):
    return http.get("/v2/users/me/token", params=params, headers=bearer(access_token))


def mint_obf(http, access_token, meeting_id="81234567890", **params) -> str:
    response = mint(http, access_token, type="onbehalf", meeting_id=meeting_id, **params)
    assert response.status_code == 200, response.text
    return response.json()["token"]


def test_users_me_returns_the_authorizing_user(http, base_url, sim_state):
    tokens = connect(http)
    response = http.get("/v2/users/me", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    me = response.json()
    assert me["id"] == ALICE_ID
    assert me["account_id"] == DEMO_ACCOUNT_ID
    assert me["email"] == "alice@example.com"
    assert (me["display_name"], me["first_name"], me["last_name"]) == (
        "Alice Example", "Alice", "Example")
    assert me["type"] == 2
    assert me["status"] == "active"
    assert isinstance(me["pmi"], int)
    assert me["timezone"]
    by_id = http.get(f"/v2/users/{ALICE_ID}", headers=bearer(tokens["access_token"]))
    assert by_id.json()["id"] == ALICE_ID
    assert sim_state.stats()["users_me"] == 2


def test_users_me_error_shapes(http):
    tokens = connect(http)
    access = tokens["access_token"]
    in_query = http.get("/v2/users/me", params={"access_token": access})
    assert (in_query.status_code, in_query.json()) == (401, INVALID)
    both = http.get("/v2/users/me", params={"access_token": access}, headers=bearer(access))
    assert (both.status_code, both.json()) == (401, INVALID)
    for headers in ({}, bearer("made-up"), {"Authorization": f"Basic {access}"}):
        response = http.get("/v2/users/me", headers=headers)
        assert (response.status_code, response.json()) == (401, INVALID)
    other = http.get(f"/v2/users/{BOB_ID}", headers=bearer(access))
    assert other.status_code == 404

    narrow = connect(http, scopes=["user:read:token"])
    response = http.get("/v2/users/me", headers=bearer(narrow["access_token"]))
    assert response.status_code == 400
    assert response.json() == {
        "code": 4711, "message": "Invalid access token, does not contain scopes:[user:read:user]."}


def test_expire_tokens_makes_access_tokens_expired(http):
    alice, bob = connect(http), connect(http, user_id=BOB_ID)
    response = http.post(f"/_sim/users/{ALICE_ID}/expire-tokens")
    assert response.json() == {"user_id": ALICE_ID, "expired_access_tokens": 1}
    expired = http.get("/v2/users/me", headers=bearer(alice["access_token"]))
    assert (expired.status_code, expired.json()) == (401, EXPIRED)
    assert http.get("/v2/users/me", headers=bearer(bob["access_token"])).status_code == 200
    renewed = refresh(http, alice["refresh_token"]).json()
    assert http.get("/v2/users/me", headers=bearer(renewed["access_token"])).status_code == 200


def test_sim_revoke_kills_grants_silently(http, sim_state):
    first, second = connect(http), connect(http)
    response = http.post(f"/_sim/users/{ALICE_ID}/revoke")
    assert response.json() == {"user_id": ALICE_ID, "revoked_grants": 2}
    for tokens in (first, second):
        assert refresh(http, tokens["refresh_token"]).json() == {
            "reason": "Invalid Token!", "error": "invalid_grant"}
        assert http.get("/v2/users/me", headers=bearer(tokens["access_token"])).json() == INVALID
    assert sim_state.stats()["revokes"] == 0  # silent: nobody called /oauth/revoke


def test_obf_mint_requires_meeting_and_scope(http, sim_state):
    tokens = connect(http)
    missing = mint(http, tokens["access_token"], type="onbehalf")
    assert missing.status_code == 400
    assert missing.json()["code"] == 300
    assert mint(http, tokens["access_token"], type="onbehalf", meeting_id="12ab").status_code == 400
    assert mint(http, tokens["access_token"], type="nope").json()["code"] == 300
    bad_ttl = mint(http, tokens["access_token"], type="onbehalf", meeting_id="1234567890", ttl="0")
    assert bad_ttl.json()["code"] == 300

    first, second = (mint_obf(http, tokens["access_token"]) for _ in range(2))
    assert first != second

    no_scope = connect(http, scopes=["user:read:user", "user:read:zak"])
    response = mint(http, no_scope["access_token"], type="onbehalf", meeting_id="1234567890")
    assert response.status_code == 400
    assert response.json() == {
        "code": 4711, "message": "Invalid access token, does not contain scopes:[user:read:token]."}
    stats = sim_state.stats()
    assert stats["obf_mints"] == 2
    assert stats["per_user"][ALICE_ID]["obf_mints"] == 2


def test_mint_follows_access_token_rules(http):
    tokens = connect(http)
    in_query = http.get("/v2/users/me/token", params={
        "type": "zak", "access_token": tokens["access_token"]})
    assert (in_query.status_code, in_query.json()) == (401, INVALID)
    advance(http, 3600)
    assert mint(http, tokens["access_token"], type="zak").json() == EXPIRED


def test_zak_mint_accepts_zak_or_token_scope(http, sim_state):
    for scopes in (["user:read:zak"], ["user:read:token"]):
        tokens = connect(http, scopes=scopes)
        response = mint(http, tokens["access_token"], type="zak")
        assert response.status_code == 200
        assert response.json()["token"]
    only_user = connect(http, scopes=["user:read:user"])
    response = mint(http, only_user["access_token"], type="zak")
    assert response.json()["code"] == 4711
    assert sim_state.stats()["zak_mints"] == 2


def test_consume_obf_token_single_use(http, sim_state):
    tokens = connect(http)
    token = mint_obf(http, tokens["access_token"], meeting_id="81234567890")
    assert sim_state.consume_obf_token(token, 81234567890, DEMO_CLIENT_ID) == ALICE_ID
    with pytest.raises(TokenConsumeError) as err:
        sim_state.consume_obf_token(token, "81234567890", DEMO_CLIENT_ID)
    assert err.value.reason == "used"
    assert err.value.sdk_error == "MEETING_FAIL_ON_BEHALF_TOKEN_INVALID"


def test_consume_obf_token_refusals(http, sim_state):
    access = connect(http)["access_token"]
    wrong_meeting = mint_obf(http, access, meeting_id="1111111111")
    with pytest.raises(TokenConsumeError) as err:
        sim_state.consume_obf_token(wrong_meeting, "2222222222", DEMO_CLIENT_ID)
    assert err.value.reason == "wrong_meeting"
    assert err.value.sdk_error == "MEETING_FAIL_ON_BEHALF_TOKEN_NOT_MATCH_MEETING"

    wrong_app = mint_obf(http, access, meeting_id="1111111111")
    with pytest.raises(TokenConsumeError) as err:
        sim_state.consume_obf_token(wrong_app, "1111111111", "another-client")
    assert err.value.reason == "wrong_app"

    with pytest.raises(TokenConsumeError) as err:
        sim_state.consume_obf_token("made-up", "1111111111", DEMO_CLIENT_ID)
    assert err.value.reason == "unknown"

    short = mint_obf(http, access, meeting_id="1111111111", ttl="60")
    advance(http, 60)
    with pytest.raises(TokenConsumeError) as err:
        sim_state.consume_obf_token(short, "1111111111", DEMO_CLIENT_ID)
    assert err.value.reason == "expired"


def test_consume_obf_token_dies_with_its_grant(http, sim_state):
    access = connect(http)["access_token"]
    token = mint_obf(http, access, meeting_id="1111111111")
    http.post(f"/_sim/users/{ALICE_ID}/revoke")
    with pytest.raises(TokenConsumeError) as err:
        sim_state.consume_obf_token(token, "1111111111", DEMO_CLIENT_ID)
    assert err.value.reason == "revoked"


def test_consume_zak_token(http, sim_state):
    access = connect(http)["access_token"]
    zak = mint(http, access, type="zak").json()["token"]
    with pytest.raises(TokenConsumeError):
        sim_state.consume_obf_token(zak, "1111111111", DEMO_CLIENT_ID)  # a ZAK is not an OBF token
    assert sim_state.consume_zak_token(zak, DEMO_CLIENT_ID) == ALICE_ID
    with pytest.raises(TokenConsumeError):
        sim_state.consume_zak_token(zak, DEMO_CLIENT_ID)

