"""create_bot on an account with no Zoom users connected answers the guide's
"No Zoom users connected for this account" whether or not the Zoom app is configured; the other
messages stay as they were."""

from __future__ import annotations

from tests.support.bot_scenes import CREATE
from tests.support.customers import make_customer
from tests.support.errors import assert_error
from tests.support.stack import Stack

NO_USERS = "No Zoom users connected for this account"
HOSTED = {"meeting_link": "https://zoom.us/j/71920359896?pwd=abc",
          "zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": "zu-alice"}}


def test_no_app_and_no_connections_gets_the_guides_message_then_the_app_hint(stack: Stack):
    _, key = stack.create_account("bare")
    with stack.client(key) as api:
        body = assert_error(api.post(CREATE, json=HOSTED), 400, "no_zoom_users_connected")
    assert body["detail"] == (f"{NO_USERS}; no Zoom app is configured either: "
                              "PUT /api/v1/zoom/oauth/app first")


def test_an_app_but_no_connections_gets_exactly_the_guides_message(stack: Stack):
    customer = make_customer(stack, name="app-only")
    body = assert_error(customer.api.post(CREATE, json=HOSTED), 400, "no_zoom_users_connected")
    assert body["detail"] == NO_USERS
    customer.api.close()


def test_connections_without_an_app_still_say_the_app_is_missing(stack: Stack):
    customer = make_customer(stack, name="app-removed")
    alice = stack.sim.create_user("Alice")
    assert customer.connect(alice["id"]).status_code == 200
    assert customer.api.delete("/api/v1/zoom/oauth/app").status_code == 204
    body = {**HOSTED, "zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": alice["id"]}}
    assert_error(customer.api.post(CREATE, json=body), 400, "zoom_app_not_configured",
                 "No Zoom app is configured for this account", "PUT /api/v1/zoom/oauth/app")
    customer.api.close()


def test_bots_without_hosted_auth_need_neither(stack: Stack):
    _, key = stack.create_account("plain")
    with stack.client(key) as api:
        response = api.post(CREATE, json={"meeting_link": HOSTED["meeting_link"]})
    assert response.status_code == 201, response.text
