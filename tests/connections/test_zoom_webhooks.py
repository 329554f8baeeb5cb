"""Zoom's webhooks at the app's webhook_url: verified, replay-proof, and acted on at once."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx
import pytest

from obfbroker.zoom.signatures import zoom_signature
from tests.connections.conftest import Customer
from tests.support.http import http_post


def webhook_url(customer: Customer) -> str:
    url = customer.api.get("/api/v1/zoom/oauth/app").json()["webhook_url"]
    return url.replace(customer.stack.settings.public_url, customer.stack.url)


def send(customer: Customer, event: dict, *, secret: str | None = None, timestamp: int | None = None,
         signature: str | None = None) -> httpx.Response:
    body = json.dumps(event).encode()
    ts = str(timestamp if timestamp is not None else int(time.time()))
    sig = signature or zoom_signature(secret or customer.app.webhook_secret_token, ts, body)
    return http_post(webhook_url(customer), content=body, headers={
        "content-type": "application/json", "x-zm-request-timestamp": ts, "x-zm-signature": sig})


def deauthorized(customer: Customer, user_id: str, retention: str = "false") -> dict:
    return {"event": "app_deauthorized", "event_ts": int(time.time() * 1000), "payload": {
        "account_id": "acct", "user_id": user_id, "signature": "x", "client_id": customer.app.client_id,
        "deauthorization_time": "2026-11-29T10:00:00.000Z", "user_data_retention": retention}}


def connection(customer: Customer, user_id: str) -> dict:
    return customer.api.get(f"/api/v1/zoom/oauth/connections/{user_id}").json()


def point_sim_app_at_us(customer: Customer) -> None:
    sim = customer.stack.sim
    sim._ok(sim.http.patch(f"/_sim/apps/{customer.app.client_id}",
                           json={"webhook_url": webhook_url(customer)}))


def test_url_validation_is_answered(customer: Customer):
    response = send(customer, {"event": "endpoint.url_validation", "payload": {"plainToken": "abc123"},
                               "event_ts": 1})
    assert response.status_code == 200
    expected = hmac.new(customer.app.webhook_secret_token.encode(), b"abc123", hashlib.sha256).hexdigest()
    assert response.json() == {"plainToken": "abc123", "encryptedToken": expected}


def test_the_simulator_validates_our_webhook_url(customer: Customer):
    point_sim_app_at_us(customer)
    sim = customer.stack.sim
    result = sim._ok(sim.http.post(f"/_sim/apps/{customer.app.client_id}/validate-webhook"))
    assert result["valid"] is True


def test_deauthorization_disconnects_within_one_request(customer: Customer):
    sim = customer.stack.sim
    alice = sim.create_user("Alice")
    customer.connect(alice["id"], metadata={"tenant_user_id": "alice"})
    point_sim_app_at_us(customer)
    result = sim._ok(sim.http.post(f"/_sim/users/{alice['id']}/deauthorize",
                                   json={"client_id": customer.app.client_id, "user_data_retention": "true"}))
    assert result["webhook"]["status_code"] == 200
    after = connection(customer, alice["id"])
    assert after["state"] == "disconnected" and after["has_refresh_token"] is False
    assert after["disconnected_reason"] == "app_deauthorized"
    assert after["email"] == alice["email"], "user_data_retention true keeps identity"
    assert after["metadata"] == {"tenant_user_id": "alice"}


def test_deauthorization_without_data_retention_drops_identity(customer: Customer):
    alice = customer.stack.sim.create_user("Alice")
    customer.connect(alice["id"])
    assert send(customer, deauthorized(customer, alice["id"], "false")).json() == {"status": "disconnected"}
    after = connection(customer, alice["id"])
    assert after["state"] == "disconnected"
    assert after["email"] == "" and after["display_name"] == "" and after["zoom_account_id"] == ""
    assert after["zoom_user_id"] == alice["id"]


@pytest.mark.parametrize("tamper", ["wrong_secret", "stale", "future", "bad_signature", "no_headers"])
def test_forged_or_stale_webhooks_change_nothing(customer: Customer, tamper: str):
    alice = customer.stack.sim.create_user("Alice")
    customer.connect(alice["id"])
    event = deauthorized(customer, alice["id"])
    if tamper == "wrong_secret":
        response = send(customer, event, secret="not-the-secret")
    elif tamper == "stale":
        response = send(customer, event, timestamp=int(time.time()) - 360)
    elif tamper == "future":
        response = send(customer, event, timestamp=int(time.time()) + 360)
    elif tamper == "bad_signature":
        response = send(customer, event, signature="v0=" + "0" * 64)
    else:
        response = http_post(webhook_url(customer), json=event)
    assert response.status_code == 401 and response.json()["code"] == "invalid_zoom_signature"
    assert connection(customer, alice["id"])["state"] == "connected"


def test_a_replayed_webhook_changes_nothing(customer: Customer):
    alice = customer.stack.sim.create_user("Alice")
    customer.connect(alice["id"])
    body = json.dumps(deauthorized(customer, alice["id"])).encode()
    ts = str(int(time.time()))
    headers = {"content-type": "application/json", "x-zm-request-timestamp": ts,
               "x-zm-signature": zoom_signature(customer.app.webhook_secret_token, ts, body)}
    assert http_post(webhook_url(customer), content=body, headers=headers).status_code == 200
    assert customer.connect(alice["id"]).status_code == 200, "alice reconnects"
    replay = http_post(webhook_url(customer), content=body, headers=headers)
    assert replay.status_code == 401 and "replay" in replay.json()["detail"]
    assert connection(customer, alice["id"])["state"] == "connected"


def test_unknown_events_are_ignored_and_unknown_apps_are_404(customer: Customer):
    alice = customer.stack.sim.create_user("Alice")
    customer.connect(alice["id"])
    response = send(customer, {"event": "meeting.started", "payload": {"user_id": alice["id"]}})
    assert response.status_code == 200 and response.json() == {"status": "ignored"}
    assert connection(customer, alice["id"])["state"] == "connected"
    missing = http_post(customer.stack.url + "/webhooks/zoom/app_doesnotexist", json={})
    assert missing.status_code == 404


def test_another_accounts_user_is_not_touched(customer: Customer):
    from tests.connections.conftest import make_customer

    alice = customer.stack.sim.create_user("Alice")
    other = make_customer(customer.stack, name="other")
    customer.connect(alice["id"])
    other.connect(alice["id"])
    assert send(other, deauthorized(other, alice["id"])).status_code == 200
    assert connection(other, alice["id"])["state"] == "disconnected"
    assert connection(customer, alice["id"])["state"] == "connected"
