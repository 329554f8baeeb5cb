"""The guide's Step 2, end to end over HTTP against the Zoom simulator."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support.customers import Customer
from tests.support.http import TLS
from tests.support.sim import REDIRECT_URI

GUIDE_FIELDS = {"zoom_user_id", "zoom_account_id", "email", "display_name", "metadata", "state",
                "created_at", "updated_at", "has_refresh_token"}
HEALTH_FIELDS = {"last_refreshed_at", "refresh_token_expires_hint", "disconnected_reason",
                 "disconnected_at", "last_error", "reconnect_hint"}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def test_two_end_users_connect_through_the_guides_step_2(customer: Customer):
    sim = customer.stack.sim
    alice, bob = sim.create_user("Alice"), sim.create_user("Bob")

    url = customer.api.get("/api/v1/zoom/oauth/authorize-url",
                           params={"redirect_uri": REDIRECT_URI, "state": "alice-internal-uuid"})
    assert url.status_code == 200
    authorize_url = url.json()["authorize_url"]
    parts = urlsplit(authorize_url)
    assert f"{parts.scheme}://{parts.netloc}" == sim.url and parts.path == "/oauth/authorize"
    query = parse_qs(parts.query)
    assert query == {"response_type": ["code"], "client_id": [customer.app.client_id],
                     "redirect_uri": [REDIRECT_URI], "state": ["alice-internal-uuid"]}

    results = {}
    for user, tenant_id in ((alice, "alice-internal-uuid"), (bob, "bob-internal-uuid")):
        response = customer.connect(user["id"], metadata={"tenant_user_id": tenant_id})
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == GUIDE_FIELDS
        assert body["zoom_user_id"] == user["id"]
        assert body["email"] == user["email"]
        assert body["display_name"] == user["display_name"]
        assert body["zoom_account_id"] == user["account_id"]
        assert body["metadata"] == {"tenant_user_id": tenant_id}
        assert body["state"] == "connected" and body["has_refresh_token"] is True
        assert TIMESTAMP.match(body["created_at"]) and TIMESTAMP.match(body["updated_at"])
        results[user["id"]] = body

    listing = customer.api.get("/api/v1/zoom/oauth/connections").json()
    assert [c["zoom_user_id"] for c in listing["connections"]] == [bob["id"], alice["id"]]
    assert listing["next_cursor"] is None
    for user_id, created in results.items():
        fetched = customer.api.get(f"/api/v1/zoom/oauth/connections/{user_id}")
        assert fetched.status_code == 200
        detail = fetched.json()
        assert {key: detail[key] for key in GUIDE_FIELDS} == created
        assert set(detail) - GUIDE_FIELDS == HEALTH_FIELDS
        assert TIMESTAMP.match(detail["last_refreshed_at"])
        assert detail["refresh_token_expires_hint"] > detail["last_refreshed_at"]
        assert detail["disconnected_reason"] is None and detail["disconnected_at"] is None


def test_state_round_trips_through_zooms_consent_page_untouched(customer: Customer):
    """The browser flow: authorize URL → simulator consent page → redirect with code and state."""
    user = customer.stack.sim.create_user("Alice")
    state = "tenant/42 & more=yes?#ünï"
    authorize_url = customer.api.get("/api/v1/zoom/oauth/authorize-url", params={
        "redirect_uri": REDIRECT_URI, "state": state}).json()["authorize_url"]
    with httpx.Client(verify=TLS, timeout=10) as browser:
        page = browser.get(authorize_url)
        assert page.status_code == 200 and "<form" in page.text
        form = dict(re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"',
                               page.text))
        import html
        form = {k: html.unescape(v) for k, v in form.items()}
        action = re.search(r'<form[^>]*action="([^"]+)"', page.text).group(1)
        form.update({"user_id": user["id"], "decision": "allow"})
        redirect = browser.post(httpx.URL(authorize_url).join(html.unescape(action)), data=form)
    assert redirect.status_code in (302, 303)
    location = urlsplit(redirect.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    params = parse_qs(location.query)
    assert params["state"] == [state]
    created = customer.api.post("/api/v1/zoom/oauth/connections", json={
        "code": params["code"][0], "redirect_uri": REDIRECT_URI})
    assert created.status_code == 200, created.text
    assert created.json()["zoom_user_id"] == user["id"]
    assert created.json()["metadata"] == {}


def test_authorize_url_without_state_has_no_state_parameter(customer: Customer):
    url = customer.api.get("/api/v1/zoom/oauth/authorize-url",
                           params={"redirect_uri": "http://localhost:5005/zoom/oauth/callback"})
    assert url.status_code == 200
    assert "state" not in parse_qs(urlsplit(url.json()["authorize_url"]).query)


def test_reauthorizing_the_same_user_updates_one_connection(customer: Customer):
    alice = customer.stack.sim.create_user("Alice")
    first = customer.connect(alice["id"], metadata={"tenant_user_id": "a1"}).json()
    kept = customer.connect(alice["id"]).json()
    assert kept["metadata"] == {"tenant_user_id": "a1"}, "omitted metadata keeps what was stored"
    replaced = customer.connect(alice["id"], metadata={"tenant_user_id": "a2"}).json()
    assert replaced["metadata"] == {"tenant_user_id": "a2"}
    assert replaced["created_at"] == first["created_at"]
    assert replaced["updated_at"] > first["updated_at"]
    listing = customer.api.get("/api/v1/zoom/oauth/connections").json()["connections"]
    assert [c["zoom_user_id"] for c in listing] == [alice["id"]]


def test_reauthorizing_a_disconnected_user_reconnects_them(customer: Customer):
    alice = customer.stack.sim.create_user("Alice")
    customer.connect(alice["id"])
    assert customer.api.delete(f"/api/v1/zoom/oauth/connections/{alice['id']}").status_code == 200
    again = customer.connect(alice["id"]).json()
    assert again["state"] == "connected" and again["has_refresh_token"] is True


def test_a_retried_code_returns_the_same_connection(customer: Customer):
    sim = customer.stack.sim
    alice = sim.create_user("Alice")
    code = sim.authorize(customer.app, alice["id"])
    body = {"code": code, "redirect_uri": REDIRECT_URI, "metadata": {"tenant_user_id": "a"}}
    before = sim.stats()["code_grants"]
    first = customer.api.post("/api/v1/zoom/oauth/connections", json=body)
    second = customer.api.post("/api/v1/zoom/oauth/connections", json=body)
    assert first.status_code == second.status_code == 200, second.text
    assert first.json() == second.json()
    assert sim.stats()["code_grants"] == before + 1, "Zoom saw the single-use code only once"


def test_concurrent_retries_of_one_code_share_one_exchange(customer: Customer):
    from concurrent.futures import ThreadPoolExecutor

    sim = customer.stack.sim
    sim.faults(latency_ms=300)
    alice = sim.create_user("Alice")
    code = sim.authorize(customer.app, alice["id"])
    body = {"code": code, "redirect_uri": REDIRECT_URI}

    def post(_):
        with customer.stack.client(customer.api_key) as api:
            return api.post("/api/v1/zoom/oauth/connections", json=body)

    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(post, range(4)))
    sim.faults(latency_ms=0)
    assert [r.status_code for r in responses] == [200] * 4, [r.text for r in responses]
    assert len({r.json()["zoom_user_id"] for r in responses}) == 1
    assert sim.stats()["code_grants"] == 1


def test_the_same_code_from_another_account_is_not_a_retry(customer: Customer):
    from tests.support.customers import make_customer

    sim = customer.stack.sim
    alice = sim.create_user("Alice")
    code = sim.authorize(customer.app, alice["id"])
    body = {"code": code, "redirect_uri": REDIRECT_URI}
    assert customer.api.post("/api/v1/zoom/oauth/connections", json=body).status_code == 200
    other = make_customer(customer.stack, app=customer.app, name="other")
    replay = other.api.post("/api/v1/zoom/oauth/connections", json=body)
    assert replay.status_code == 400
    assert replay.json()["code"] == "zoom_code_rejected"
    assert other.api.get("/api/v1/zoom/oauth/connections").json()["connections"] == []
