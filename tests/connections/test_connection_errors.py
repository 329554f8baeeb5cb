"""Every 4xx of authorize-url and connection-create, with its message; nothing is stored."""

from __future__ import annotations

import pytest

from tests.support.customers import Customer
from tests.support.errors import assert_error
from tests.support.sim import REDIRECT_URI
from tests.support.stack import Stack

AUTHORIZE = "/api/v1/zoom/oauth/authorize-url"
CONNECTIONS = "/api/v1/zoom/oauth/connections"


def assert_nothing_stored(customer: Customer) -> None:
    assert customer.api.get(CONNECTIONS).json() == {"connections": [], "next_cursor": None}


@pytest.mark.parametrize(("redirect_uri", "fragment"), [
    (None, "redirect_uri is required"),
    ("", "redirect_uri is required"),
    ("/zoom/oauth/callback", "must be an absolute URL"),
    ("yourapp.example.com/callback", "must be an absolute URL"),
    ("http://yourapp.example.com/zoom/oauth/callback",
     "must use https (plain http is allowed only for localhost and 127.0.0.1)"),
    ("ftp://yourapp.example.com/cb", "must use https"),
    ("https://yourapp.example.com/cb#section", "must not contain a fragment"),
    ("https://yourapp.example.com/cb#", "must not contain a fragment"),
    ("https://user:pw@yourapp.example.com/cb", "must not contain user information"),
    ("https://yourapp.example.com/c b", "must not contain spaces"),
])
def test_authorize_url_rejects_bad_redirect_uris(customer: Customer, redirect_uri, fragment):
    params = {} if redirect_uri is None else {"redirect_uri": redirect_uri}
    assert_error(customer.api.get(AUTHORIZE, params=params), 400, "invalid_redirect_uri", fragment)


@pytest.mark.parametrize("redirect_uri", [
    "http://localhost:5005/zoom/oauth/callback", "http://127.0.0.1/cb",
    "https://yourapp.example.com/zoom/oauth/callback/", "https://a.example.com/cb?tenant=1",
])
def test_authorize_url_accepts_https_and_loopback_http(customer: Customer, redirect_uri):
    response = customer.api.get(AUTHORIZE, params={"redirect_uri": redirect_uri})
    assert response.status_code == 200, response.text


def test_authorize_url_without_an_app_says_to_configure_one(stack: Stack):
    _, key = stack.create_account()
    with stack.client(key) as api:
        assert_error(api.get(AUTHORIZE, params={"redirect_uri": REDIRECT_URI}), 400,
                     "zoom_app_not_configured", "PUT /api/v1/zoom/oauth/app")
        assert_error(api.post(CONNECTIONS, json={"code": "abc", "redirect_uri": REDIRECT_URI}), 400,
                     "zoom_app_not_configured", "PUT /api/v1/zoom/oauth/app")


def test_a_code_zoom_rejects_is_a_400_with_the_redirect_advice(customer: Customer):
    response = customer.api.post(CONNECTIONS, json={"code": "not-a-real-code", "redirect_uri": REDIRECT_URI})
    body = assert_error(response, 400, "zoom_code_rejected",
                        "Confirm the three redirect_uri strings match Zoom's registered URL",
                        "same user API key is used for authorize-url and connection-create")
    assert "not-a-real-code" not in response.text, "the code must never be echoed"
    assert "redirect_uri" in body["detail"]
    assert_nothing_stored(customer)


def test_a_redirect_uri_differing_from_authorize_is_rejected(customer: Customer):
    sim = customer.stack.sim
    alice = sim.create_user("Alice")
    code = sim.authorize(customer.app, alice["id"], redirect_uri="http://localhost:5005/zoom/oauth/callback")
    response = customer.api.post(CONNECTIONS, json={"code": code, "redirect_uri": REDIRECT_URI})
    assert response.status_code == 400
    assert response.json()["code"] in {"redirect_uri_mismatch", "zoom_code_rejected"}
    assert "redirect_uri" in response.json()["detail"]
    assert code not in response.text
    assert_nothing_stored(customer)


@pytest.mark.parametrize(("scopes", "missing"), [
    (["user:read:user"], "user:read:token"),
    (["user:read:token"], "user:read:user"),
])
def test_missing_scopes_are_named_and_nothing_is_stored(customer: Customer, scopes, missing):
    sim = customer.stack.sim
    alice = sim.create_user("Alice")
    revokes = sim.stats()["revokes"]
    response = customer.connect(alice["id"], scopes=scopes)
    body = assert_error(response, 400, "missing_scopes", missing)
    assert scopes[0] not in body["detail"].split("missing ")[1].split(".")[0]
    assert sim.stats()["revokes"] == revokes + 1, "the unusable grant is revoked at Zoom"
    assert_nothing_stored(customer)


@pytest.mark.parametrize("status", ["inactive", "pending"])
def test_users_who_are_not_active_are_rejected(customer: Customer, status):
    user = customer.stack.sim.create_user("Ina", status=status)
    assert_error(customer.connect(user["id"]), 400, "zoom_user_not_active", status)
    assert_nothing_stored(customer)


def test_wrong_app_credentials_are_the_apps_fault(customer: Customer):
    sim = customer.stack.sim
    alice = sim.create_user("Alice")
    code = sim.authorize(customer.app, alice["id"])
    customer.api.put("/api/v1/zoom/oauth/app", json={
        "client_id": customer.app.client_id, "client_secret": "wrong-secret"})
    response = customer.api.post(CONNECTIONS, json={"code": code, "redirect_uri": REDIRECT_URI})
    assert_error(response, 400, "zoom_app_credentials_invalid", "client_id or client_secret")
    assert "wrong-secret" not in response.text
    assert_nothing_stored(customer)


def test_zoom_unavailable_is_a_503_with_retry_after_and_stores_nothing(customer: Customer):
    sim = customer.stack.sim
    alice = sim.create_user("Alice")
    code = sim.authorize(customer.app, alice["id"])
    sim.faults(rate_5xx=1.0)
    response = customer.api.post(CONNECTIONS, json={"code": code, "redirect_uri": REDIRECT_URI})
    sim.faults(rate_5xx=0.0)
    assert_error(response, 503, "zoom_unavailable")
    assert int(response.headers["retry-after"]) >= 1
    assert_nothing_stored(customer)


def test_zoom_rate_limiting_is_a_503_with_retry_after(customer: Customer):
    sim = customer.stack.sim
    alice = sim.create_user("Alice")
    code = sim.authorize(customer.app, alice["id"])
    sim.faults(rate_429=1.0)
    response = customer.api.post(CONNECTIONS, json={"code": code, "redirect_uri": REDIRECT_URI})
    sim.faults(rate_429=0.0)
    assert_error(response, 503, "zoom_unavailable")
    assert "retry-after" in response.headers
    assert_nothing_stored(customer)


@pytest.mark.parametrize(("body", "code", "fragment"), [
    ({"redirect_uri": REDIRECT_URI}, "invalid_request", "code"),
    ({"code": "", "redirect_uri": REDIRECT_URI}, "invalid_code", "code is required"),
    ({"code": "abc"}, "invalid_request", "redirect_uri"),
    ({"code": "abc", "redirect_uri": "http://evil.example.com/cb"}, "invalid_redirect_uri", "must use https"),
    ({"code": "abc", "redirect_uri": REDIRECT_URI, "metadata": [1, 2]}, "invalid_metadata",
     "metadata must be a JSON object"),
    ({"code": "abc", "redirect_uri": REDIRECT_URI, "metadata": "tenant"}, "invalid_metadata", "JSON object"),
    ({"code": "abc", "redirect_uri": REDIRECT_URI, "metadata": {"blob": "x" * 16_400}},
     "invalid_metadata", "at most 16384 bytes"),
])
def test_bad_connection_bodies_are_400s_that_say_why(customer: Customer, body, code, fragment):
    assert_error(customer.api.post(CONNECTIONS, json=body), 400, code, fragment)
    assert_nothing_stored(customer)


def test_a_body_that_is_not_json_is_a_400(customer: Customer):
    response = customer.api.post(CONNECTIONS, content=b"code=abc",
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400 and response.json()["code"] == "invalid_request"


def test_metadata_at_the_size_limit_is_accepted(customer: Customer):
    alice = customer.stack.sim.create_user("Alice")
    metadata = {"blob": "x" * (16 * 1024 - len('{"blob":""}'))}
    response = customer.connect(alice["id"], metadata=metadata)
    assert response.status_code == 200, response.text
    assert response.json()["metadata"] == metadata
