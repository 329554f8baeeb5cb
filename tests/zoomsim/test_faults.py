"""Fault injection: 5xx, 429 and latency on Zoom-facing endpoints only."""

from __future__ import annotations

import time
from typing import get_args

import pytest

from obfbroker.zoomsim.bots import JOIN_ERRORS, OBF_REFUSALS
from obfbroker.zoomsim.control import ObfRefusal
from obfbroker.zoomsim.models import ControlError
from obfbroker.zoomsim.seed import DEMO_CLIENT_ID
from tests.zoomsim.helpers import DEMO_AUTH, REDIRECT_URI, authorize, bearer, connect, refresh

RATE_LIMIT_BODY = {
    "code": 429,
    "message": "You have reached the maximum per-second rate limit for this API. Try again later.",
}


def set_faults(http, **faults) -> dict:
    response = http.post("/_sim/faults", json=faults)
    assert response.status_code == 200, response.text
    return response.json()


def test_faults_inject_5xx_and_429(http, sim_state):
    tokens = connect(http)
    set_faults(http, rate_5xx=1)
    answers = [refresh(http, tokens["refresh_token"]) for _ in range(3)]
    assert {r.status_code for r in answers} <= {500, 502, 503}
    kinds = {r.headers["content-type"].split(";")[0] for r in answers}
    assert kinds == {"text/html", "application/json", "text/plain"}
    me = http.get("/v2/users/me", headers=bearer(tokens["access_token"]))
    assert me.status_code >= 500

    set_faults(http, rate_5xx=0, rate_429=1)
    limited = http.get("/v2/users/me", headers=bearer(tokens["access_token"]))
    assert limited.status_code == 429
    assert limited.json() == RATE_LIMIT_BODY
    assert limited.headers["X-RateLimit-Category"] == "Light"
    assert limited.headers["X-RateLimit-Type"] == "QPS"
    assert limited.headers["Retry-After"] == "1"
    revoke = http.post("/oauth/revoke", data={"token": tokens["access_token"]}, auth=DEMO_AUTH)
    assert revoke.status_code == 429

    # Faulted requests never reached the state: the original refresh token still works.
    set_faults(http, rate_429=0)
    assert refresh(http, tokens["refresh_token"]).status_code == 200
    stats = sim_state.stats()
    assert (stats["faults_5xx"], stats["faults_429"]) == (4, 2)


def test_partial_fault_rates_mix_failures_and_successes(http):
    tokens = connect(http)
    set_faults(http, rate_5xx=0.5)
    codes = {http.get("/v2/users/me", headers=bearer(tokens["access_token"])).status_code
             for _ in range(60)}
    assert 200 in codes
    assert codes & {500, 502, 503}


def test_faults_spare_control_api_and_consent_page(http):
    set_faults(http, rate_5xx=1, rate_429=1)
    assert http.get("/_sim/users").status_code == 200
    code = authorize(http)
    page = http.get("/oauth/authorize", params={
        "response_type": "code", "client_id": DEMO_CLIENT_ID, "redirect_uri": REDIRECT_URI})
    assert page.status_code == 200
    token = http.post("/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                            "redirect_uri": REDIRECT_URI}, auth=DEMO_AUTH)
    assert token.status_code == 429


def test_fault_settings_validate_and_update_partially(http, sim_state):
    default = {"rate_5xx": 0, "rate_429": 0, "latency_ms": 0,
               "obf_refusal": "AUTHORIZED_USER_NOT_INMEETING"}
    assert http.get("/_sim/faults").json() == default
    assert set_faults(http, rate_429=0.25) == {**default, "rate_429": 0.25}
    assert set_faults(http, latency_ms=5) == {**default, "rate_429": 0.25, "latency_ms": 5}
    assert set_faults(http, obf_refusal="MEETING_FAIL_UNKNOWN") == {
        **default, "rate_429": 0.25, "latency_ms": 5, "obf_refusal": "MEETING_FAIL_UNKNOWN"}
    for bad in ({"rate_5xx": 1.5}, {"rate_429": -0.1}, {"latency_ms": -1},
                {"latency_ms": "slow"}, {"obf_refusal": "WRONG_PASSCODE"}, {"obf_refusal": 501}):
        response = http.post("/_sim/faults", json=bad)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
    with pytest.raises(ControlError):
        sim_state.set_faults(obf_refusal="JWT_INVALID")
    faults = http.get("/_sim/faults").json()
    assert (faults["rate_429"], faults["obf_refusal"]) == (0.25, "MEETING_FAIL_UNKNOWN")


def test_obf_refusal_choices_are_join_errors():
    assert get_args(ObfRefusal) == OBF_REFUSALS
    assert {JOIN_ERRORS[name] for name in OBF_REFUSALS} == {(403, 501), (403, 65535), (403, 6)}


def test_latency_delays_zoom_endpoints_only(http):
    tokens = connect(http)
    set_faults(http, latency_ms=300)
    started = time.monotonic()
    assert http.get("/v2/users/me", headers=bearer(tokens["access_token"])).status_code == 200
    assert time.monotonic() - started >= 0.3  # a floor the injected sleep guarantees
    # A latency no client would sit through: the control API still answers (a delayed one would
    # run into the client's timeout).
    set_faults(http, latency_ms=60_000)
    assert http.get("/_sim/stats", timeout=30).status_code == 200
