"""/oauth/token and /oauth/revoke: exchange, rotation, lifetimes, revocation, client auth."""

from __future__ import annotations

import base64
import hashlib

from obfbroker.zoomsim.seed import ALICE_ID, DEMO_CLIENT_ID, DEMO_REDIRECT_URIS
from tests.zoomsim.helpers import (
    DEMO_AUTH,
    REDIRECT_URI,
    advance,
    authorize,
    bearer,
    connect,
    exchange,
    refresh,
)

INVALID_GRANT = {"reason": "Invalid Token!", "error": "invalid_grant"}
INVALID_CLIENT = {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}


def me_status(http, access_token: str) -> int:
    return http.get("/v2/users/me", headers=bearer(access_token)).status_code


def test_code_exchange_returns_zoom_token_shape(http, base_url):
    response = exchange(http, authorize(http))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "refresh_token", "expires_in", "scope",
                         "api_url"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3599
    assert body["scope"] == ("user:read:user user:read:token user:read:zak "
                             "meeting_token:read:local_recording")
    assert body["api_url"] == base_url
    assert body["access_token"] != body["refresh_token"]


def test_codes_are_single_use(http, sim_state):
    code = authorize(http)
    assert exchange(http, code).status_code == 200
    second = exchange(http, code)
    assert second.status_code == 400
    assert second.json() == {"reason": f"Invalid authorization code {code}",
                             "error": "invalid_request"}
    assert sim_state.stats()["code_grants"] == 1


def test_code_expires_after_five_minutes(http):
    fresh, stale = authorize(http), authorize(http)
    advance(http, 299)
    assert exchange(http, fresh).status_code == 200
    advance(http, 1)
    response = exchange(http, stale)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_unknown_code_is_invalid_request(http):
    response = exchange(http, "no-such-code")
    assert response.json() == {"reason": "Invalid authorization code no-such-code",
                               "error": "invalid_request"}


def test_code_exchange_requires_same_redirect_uri(http):
    code = authorize(http)
    response = exchange(http, code, redirect_uri=DEMO_REDIRECT_URIS[1])
    assert response.status_code == 400
    assert response.json() == {"reason": "Redirect URI mismatch.", "error": "invalid_request"}
    assert exchange(http, code).status_code == 200  # a refused attempt does not burn the code


def test_code_is_bound_to_its_client(http):
    http.post("/_sim/apps", json={"client_id": "other", "client_secret": "other-secret",
                                  "redirect_uris": [REDIRECT_URI], "scopes": ["user:read:user"]})
    response = exchange(http, authorize(http), auth=("other", "other-secret"))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_token_parameters_accepted_in_query_string(http):
    params = {"grant_type": "authorization_code", "code": authorize(http),
              "redirect_uri": REDIRECT_URI}
    assert http.post("/oauth/token", params=params, auth=DEMO_AUTH).status_code == 200


def test_bad_client_credentials_are_invalid_client(http):
    code = authorize(http)
    for auth in ((DEMO_CLIENT_ID, "wrong"), ("unknown", "x")):
        response = exchange(http, code, auth=auth)
        assert response.status_code == 401
        assert response.json() == INVALID_CLIENT
    no_auth = http.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                              "redirect_uri": REDIRECT_URI})
    assert no_auth.status_code == 401
    assert no_auth.json() == INVALID_CLIENT
    garbage = http.post("/oauth/token", headers={"Authorization": "Basic !!!"})
    assert garbage.json() == INVALID_CLIENT
    assert exchange(http, code).status_code == 200


def test_unsupported_grant_type(http):
    response = http.post("/oauth/token", data={"grant_type": "client_credentials"},
                         auth=DEMO_AUTH)
    assert response.status_code == 400
    assert response.json() == {"reason": "unsupported grant type",
                               "error": "unsupported_grant_type"}


def test_pkce_s256_and_plain_are_verified(http):
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    challenge_s256 = challenge.decode().rstrip("=")
    code = authorize(http, code_challenge=challenge_s256, code_challenge_method="S256")
    assert exchange(http, code).status_code == 400
    assert exchange(http, code, code_verifier="w" * 50).status_code == 400
    assert exchange(http, code, code_verifier=verifier).status_code == 200

    code = authorize(http, code_challenge="plain-challenge-" + "x" * 30,
                     code_challenge_method="plain")
    assert exchange(http, code, code_verifier="plain-challenge-" + "x" * 30).status_code == 200


def test_refresh_rotation_kills_previous_token(http, sim_state):
    first = connect(http)
    second = refresh(http, first["refresh_token"])
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["access_token"] != first["access_token"]
    assert rotated["scope"] == first["scope"]

    stale = refresh(http, first["refresh_token"])
    assert stale.status_code == 400
    assert stale.json() == INVALID_GRANT
    assert refresh(http, rotated["refresh_token"]).status_code == 200
    stats = sim_state.stats()
    assert stats["refreshes"] == 2
    assert stats["invalid_grant"] == 1
    assert stats["per_user"][ALICE_ID]["refreshes"] == 2


def test_previous_access_token_stays_valid_until_expiry(http):
    first = connect(http)
    refresh(http, first["refresh_token"])
    assert me_status(http, first["access_token"]) == 200


def test_refresh_token_is_bound_to_its_client(http):
    http.post("/_sim/apps", json={"client_id": "other", "client_secret": "other-secret",
                                  "redirect_uris": [REDIRECT_URI], "scopes": ["user:read:user"]})
    tokens = connect(http)
    response = refresh(http, tokens["refresh_token"], auth=("other", "other-secret"))
    assert response.json() == INVALID_GRANT
    assert refresh(http, tokens["refresh_token"]).status_code == 200


def test_unknown_refresh_token_is_invalid_grant(http):
    assert refresh(http, "nonsense").json() == INVALID_GRANT


def test_idle_refresh_token_dies_after_90_days(http):
    kept_alive, idle = connect(http), connect(http)
    advance(http, 89 * 86400)
    renewed = refresh(http, kept_alive["refresh_token"]).json()
    advance(http, 1 * 86400)
    assert refresh(http, idle["refresh_token"]).json() == INVALID_GRANT
    # Using a refresh token restarts its 90 idle days.
    assert refresh(http, renewed["refresh_token"]).status_code == 200


def test_access_token_expires_after_one_hour(http):
    tokens = connect(http)
    advance(http, 3599)
    assert me_status(http, tokens["access_token"]) == 200
    advance(http, 1)
    response = http.get("/v2/users/me", headers=bearer(tokens["access_token"]))
    assert response.status_code == 401
    assert response.json() == {"code": 124, "message": "Access token is expired."}


def test_revoke_kills_grant(http, sim_state):
    for which in ("refresh_token", "access_token"):
        tokens = connect(http)
        earlier_access = tokens["access_token"]
        tokens = refresh(http, tokens["refresh_token"]).json()
        response = http.post("/oauth/revoke", data={"token": tokens[which]}, auth=DEMO_AUTH)
        assert response.status_code == 200
        assert response.json() == {"status": "success"}
        assert refresh(http, tokens["refresh_token"]).json() == INVALID_GRANT
        for access in (earlier_access, tokens["access_token"]):
            assert http.get("/v2/users/me", headers=bearer(access)).json() == {
                "code": 124, "message": "Invalid access token."}
    assert sim_state.stats()["revokes"] == 2


def test_revoke_leaves_other_grants_alive(http):
    alice, bob = connect(http), connect(http, user_id="hQ2pZr7vS0eWn4LtXy8uJb")
    http.post("/oauth/revoke", data={"token": alice["access_token"]}, auth=DEMO_AUTH)
    assert me_status(http, bob["access_token"]) == 200


def test_revoke_errors(http):
    tokens = connect(http)
    unknown = http.post("/oauth/revoke", data={"token": "nope"}, auth=DEMO_AUTH)
    assert unknown.status_code == 400
    assert unknown.json()["reason"] == "Invalid Token!"
    bad_client = http.post("/oauth/revoke", data={"token": tokens["refresh_token"]},
                           auth=(DEMO_CLIENT_ID, "wrong"))
    assert bad_client.status_code == 401
    assert bad_client.json() == INVALID_CLIENT
    assert refresh(http, tokens["refresh_token"]).status_code == 200
