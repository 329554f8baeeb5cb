"""Several Zoom apps per account: managed over /api/v1/zoom/oauth/apps, the default app behind
/api/v1/zoom/oauth/app (MeetStream's clients keep working), and each connection tied to the app
its user authorized: its refreshes use that app's credentials, and Zoom's events for one app
never touch the other app's connections."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from obfbroker.zoom.signatures import zoom_signature
from tests.support.bot_scenes import expire_stored_access_token
from tests.support.customers import Customer, make_customer
from tests.support.http import http_get, http_post
from tests.support.sim import REDIRECT_URI, SimApp
from tests.support.stack import Stack

APPS = "/api/v1/zoom/oauth/apps"


def add_app(customer: Customer, app: SimApp, **fields: Any) -> dict[str, Any]:
    response = customer.api.post(APPS, json={"client_id": app.client_id, "client_secret": app.client_secret,
                                             "webhook_secret_token": app.webhook_secret_token, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def connect_through(customer: Customer, app: SimApp, app_id: str | None, user_id: str) -> dict[str, Any]:
    code = customer.stack.sim.authorize(app, user_id)
    body: dict[str, Any] = {"code": code, "redirect_uri": REDIRECT_URI}
    if app_id is not None:
        body["app_id"] = app_id
    response = customer.api.post("/api/v1/zoom/oauth/connections", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def zak_through_link(customer: Customer, zoom_user_id: str) -> int:
    """Call a Recall.ai-style ZAK link of the user as a bot would; the HTTP status."""
    link = customer.api.post("/api/v1/zoom/token-links", json={
        "zoom_user_id": zoom_user_id, "platform": "recall", "token_types": ["zak"]})
    assert link.status_code == 201, link.text
    url = link.json()["urls"]["zak"].replace(customer.stack.settings.public_url, customer.stack.url)
    return http_get(url).status_code


def deauthorize_at(customer: Customer, app: SimApp, app_id: str, user_id: str) -> dict[str, Any]:
    """Zoom's signed app_deauthorized for ``user_id``, sent to the webhook URL of ``app_id``."""
    body = json.dumps({"event": "app_deauthorized", "event_ts": int(time.time() * 1000), "payload": {
        "account_id": "acct", "user_id": user_id, "signature": "x", "client_id": app.client_id,
        "deauthorization_time": "2026-12-08T10:00:00.000Z", "user_data_retention": "true"}}).encode()
    ts = str(int(time.time()))
    response = http_post(f"{customer.stack.url}/webhooks/zoom/{app_id}", content=body, headers={
        "content-type": "application/json", "x-zm-request-timestamp": ts,
        "x-zm-signature": zoom_signature(app.webhook_secret_token, ts, body)})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def customer(stack: Stack):
    c = make_customer(stack)
    yield c
    c.api.close()


def test_apps_are_listed_read_replaced_and_deleted_and_the_first_is_the_default(customer: Customer):
    default = customer.api.get("/api/v1/zoom/oauth/app").json()
    assert default["is_default"] is True and default["kind"] == "user_managed"
    assert default["scopes"] == ["user:read:user", "user:read:token"]
    sim_app = customer.stack.sim.create_app()
    internal = add_app(customer, sim_app, name="internal")
    assert (internal["is_default"], internal["name"], internal["kind"]) == (False, "internal", "user_managed")
    assert internal["scopes"] == ["user:read:user", "user:read:token"]
    assert internal["webhook_url"].endswith(f"/webhooks/zoom/{internal['app_id']}")
    listing = customer.api.get(APPS).text
    assert sim_app.client_secret not in listing and sim_app.webhook_secret_token not in listing
    listed = customer.api.get(APPS).json()["apps"]
    assert [a["app_id"] for a in listed] == [default["app_id"], internal["app_id"]]
    assert customer.api.get(f"{APPS}/{internal['app_id']}").json() == internal

    # The same Client ID twice in one account is refused, naming the app that has it.
    twice = customer.api.post(APPS, json={"client_id": customer.app.client_id, "client_secret": "s"})
    assert twice.status_code == 409 and twice.json()["code"] == "zoom_app_exists"
    assert twice.json()["app_id"] == default["app_id"]

    # default: true moves the default; /app then means the other app.
    other = customer.stack.sim.create_app()
    moved = customer.api.put(f"{APPS}/{internal['app_id']}", json={
        "client_id": other.client_id, "client_secret": other.client_secret, "default": True})
    assert moved.status_code == 200 and moved.json()["is_default"] is True
    assert moved.json()["name"] == "internal" and moved.json()["created_at"] == internal["created_at"]
    assert customer.api.get("/api/v1/zoom/oauth/app").json()["app_id"] == internal["app_id"]
    assert customer.api.get(f"{APPS}/{default['app_id']}").json()["is_default"] is False

    assert customer.api.delete(f"{APPS}/{default['app_id']}").status_code == 204
    gone = customer.api.get(f"{APPS}/{default['app_id']}")
    assert gone.status_code == 404 and gone.json()["code"] == "zoom_app_not_found"
    assert [a["app_id"] for a in customer.api.get(APPS).json()["apps"]] == [internal["app_id"]]


def test_an_app_of_another_account_is_not_found(stack: Stack, customer: Customer):
    stranger = make_customer(stack, name="stranger")
    try:
        theirs = stranger.api.get("/api/v1/zoom/oauth/app").json()["app_id"]
        for response in (customer.api.get(f"{APPS}/{theirs}"),
                         customer.api.get("/api/v1/zoom/oauth/authorize-url",
                                          params={"redirect_uri": REDIRECT_URI, "app_id": theirs})):
            assert response.status_code == 404 and response.json()["code"] == "zoom_app_not_found"
    finally:
        stranger.api.close()


def test_two_apps_each_with_its_users_refresh_and_deauthorize_apart(customer: Customer):
    sim = customer.stack.sim
    app_a = customer.api.get("/api/v1/zoom/oauth/app").json()
    second = sim.create_app()
    app_b = add_app(customer, second, name="internal")
    url = customer.api.get("/api/v1/zoom/oauth/authorize-url",
                           params={"redirect_uri": REDIRECT_URI, "app_id": app_b["app_id"]}).json()
    assert f"client_id={second.client_id}" in url["authorize_url"]

    alice, bob = sim.create_user("Alice"), sim.create_user("Bob")
    connect_through(customer, customer.app, None, alice["id"])  # the default app
    connect_through(customer, second, app_b["app_id"], bob["id"])

    # Each refresh uses the app the user authorized: Zoom refuses another app's credentials.
    for user in (alice, bob):
        expire_stored_access_token(customer.stack, customer.account_id, user["id"])
        assert zak_through_link(customer, user["id"]) == 200

    # App A's webhook does not know Bob; app B's disconnects him, and Alice stays connected.
    assert deauthorize_at(customer, customer.app, app_a["app_id"], bob["id"]) == {"status": "unknown_user"}
    assert customer.api.get(f"/api/v1/zoom/oauth/connections/{bob['id']}").json()["state"] == "connected"
    assert deauthorize_at(customer, second, app_b["app_id"], bob["id"]) == {"status": "disconnected"}
    assert customer.api.get(f"/api/v1/zoom/oauth/connections/{bob['id']}").json()["state"] == "disconnected"
    assert customer.api.get(f"/api/v1/zoom/oauth/connections/{alice['id']}").json()["state"] == "connected"


def test_a_reconnect_link_goes_through_the_app_the_user_authorized(customer: Customer):
    sim = customer.stack.sim
    second = sim.create_app()
    app_b = add_app(customer, second)
    bob = sim.create_user("Bob")
    connect_through(customer, second, app_b["app_id"], bob["id"])
    link = customer.api.post(f"/api/v1/zoom/oauth/connections/{bob['id']}/reconnect-url",
                             json={"redirect_uri": REDIRECT_URI}).json()
    assert f"client_id={second.client_id}" in link["authorize_url"]
    # The code comes back with the link's state and no app_id: it is exchanged with app B.
    code = sim.authorize(second, bob["id"], state=link["state"])
    again = customer.api.post("/api/v1/zoom/oauth/connections", json={
        "code": code, "redirect_uri": REDIRECT_URI, "state": link["state"]})
    assert again.status_code == 200, again.text


def test_bots_and_links_join_with_the_app_their_user_authorized(customer: Customer):
    sim = customer.stack.sim
    default_id = customer.api.get("/api/v1/zoom/oauth/app").json()["app_id"]
    second = sim.create_app()
    app_b = add_app(customer, second)
    alice, bob = sim.create_user("Alice"), sim.create_user("Bob")
    connect_through(customer, customer.app, None, alice["id"])
    connect_through(customer, second, app_b["app_id"], bob["id"])
    meeting = "https://zoom.us/j/34363334431"

    def create_bot(**zoom: Any):
        return customer.api.post("/api/v1/bots/create_bot", json={
            "meeting_link": meeting, "zoom": {"use_zoom_obf": True, **zoom}})

    # A hosted bot joins with its user's app; app_id, when given, must name that app.
    assert create_bot(zoom_oauth_connection_user_id=bob["id"]).status_code == 201
    named = create_bot(zoom_oauth_connection_user_id=bob["id"], app_id=app_b["app_id"])
    assert named.status_code == 201 and named.json()["zoom"]["app_id"] == app_b["app_id"]
    mismatch = create_bot(zoom_oauth_connection_user_id=bob["id"], app_id=default_id)
    assert mismatch.status_code == 400 and mismatch.json()["code"] == "zoom_app_mismatch"
    mixed = create_bot(zoom_oauth_connection_user_ids=[alice["id"], bob["id"]])
    assert mixed.status_code == 400 and mixed.json()["code"] == "candidates_of_several_apps"
    unknown = create_bot(zoom_oauth_connection_user_id=bob["id"], app_id="app_nope")
    assert unknown.status_code == 404 and unknown.json()["code"] == "zoom_app_not_found"
    invalid = create_bot(zoom_oauth_connection_user_id=bob["id"], app_id=7)
    assert invalid.status_code == 400 and invalid.json()["code"] == "invalid_zoom_app_id"

    def link(**body: Any):
        return customer.api.post("/api/v1/zoom/token-links", json={"platform": "recall", **body})

    assert link(zoom_user_id=bob["id"], app_id=app_b["app_id"]).status_code == 201
    wrong = link(zoom_user_id=bob["id"], app_id=default_id)
    assert wrong.status_code == 400 and wrong.json()["code"] == "zoom_app_mismatch"
