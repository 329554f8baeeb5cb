"""Zoom's webhooks at the app's webhook_url: verified, replay-proof, and acted on at once."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx
import pytest

from obfbroker.zoom.signatures import zoom_signature
from tests.support.customers import Customer
from tests.support.http import http_post
from tests.support.zoom_events import point_sim_app_at_us, webhook_url


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
    from tests.support.customers import make_customer

    alice = customer.stack.sim.create_user("Alice")
    other = make_customer(customer.stack, name="other")
    customer.connect(alice["id"])
    other.connect(alice["id"])
    assert send(other, deauthorized(other, alice["id"])).status_code == 200
    assert connection(other, alice["id"])["state"] == "disconnected"
    assert connection(customer, alice["id"])["state"] == "connected"


ARABIC_INDIC_TIME = "\u0661\u0667" + "\u0660" * 8  # "1700000000" in digits int() accepts


def _signed(customer: Customer, body: bytes, timestamp: bytes | None = None) -> list[tuple[bytes, bytes]]:
    """Headers signed with the app's secret over what the server will see (headers are latin-1)."""
    ts = timestamp if timestamp is not None else str(int(time.time())).encode()
    signature = zoom_signature(customer.app.webhook_secret_token, ts.decode("latin-1"), body)
    return [(b"content-type", b"application/json"), (b"x-zm-request-timestamp", ts),
            (b"x-zm-signature", signature.encode())]


def test_hostile_webhooks_get_4xx_and_change_nothing(customer: Customer):
    """Signed but hostile input (as from a leaked secret) is refused with a 4xx JSON error, never
    a 500: odd timestamps, deep nesting, non-UTF-8, huge or non-object bodies, NaN, NUL."""
    alice = customer.stack.sim.create_user("Alice")
    customer.connect(alice["id"])
    url = webhook_url(customer)
    deauth = json.dumps(deauthorized(customer, alice["id"])).encode()

    def post(body: bytes, headers=None, target: str = url) -> httpx.Response:
        return http_post(target, content=body,
                         headers=headers if headers is not None else _signed(customer, body))

    def chunks():
        yield b'{"event": "' + b"x" * 40_000
        yield b"y" * 40_000 + b'"}'

    huge = b'{"event": "' + b"x" * (64 * 1024) + b'"}'
    cases = {
        "400-digit timestamp": (post(deauth, _signed(customer, deauth, b"1" * 400)), 401),
        "latin-1 superscript digit": (post(deauth, _signed(customer, deauth, b"\xb2")), 401),
        "arabic-indic digits": (post(deauth, _signed(customer, deauth, ARABIC_INDIC_TIME.encode())), 401),
        "repeated signature": (post(deauth, _signed(customer, deauth) + _signed(customer, deauth)[2:]), 401),
        "nested 20000 deep": (post(b"[" * 20_000 + b"]" * 20_000), 400),
        "not utf-8": (post(b'{"event": "app_deauthorized", "x": "\xff\xfe"}'), 400),
        "utf-16": (post('{"event": "meeting.started"}'.encode("utf-16")), 400),
        "array": (post(b"[1, 2]"), 400),
        "string": (post(b'"app_deauthorized"'), 400),
        "NaN": (post(b'{"event": "app_deauthorized", "payload": {"user_id": NaN}}'), 400),
        "1e999": (post(b'{"event": "meeting.started", "event_ts": 1e999}'), 400),
        "5000-digit int": (post(b'{"event": "meeting.started", "event_ts": 1' + b"0" * 5000 + b"}"), 400),
        "NUL in user_id": (post(json.dumps({"event": "app_deauthorized", "payload": {
            "user_id": alice["id"] + "\u0000", "client_id": customer.app.client_id}}).encode()), 400),
        "lone surrogate plainToken": (post(b'{"event": "endpoint.url_validation", '
                                           b'"payload": {"plainToken": "\\ud800"}}'), 400),
        "NUL in app id": (post(deauth, target=url.rsplit("/", 1)[0] + "/app_%00"), 404),
        "over 64 KiB": (post(huge), 413),
        "over 64 KiB, chunked": (http_post(url, content=chunks(), headers=_signed(customer, b"")), 413),
    }
    for name, (response, status) in cases.items():
        assert response.status_code == status, (name, response.status_code, response.text)
        body = response.json()
        assert set(body) >= {"detail", "code", "message"} and body["code"], name
    assert cases["nested 20000 deep"][0].json()["code"] == "invalid_zoom_event"
    assert cases["over 64 KiB"][0].json()["code"] == "payload_too_large"
    assert "repeated" in cases["repeated signature"][0].json()["detail"]
    assert connection(customer, alice["id"])["state"] == "connected"
    assert post(deauth).json() == {"status": "disconnected"}, "a well-formed event still works"
