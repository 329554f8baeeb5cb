"""Webhooks from the simulator: /_sim/users/{id}/deauthorize and /_sim/apps/{id}/validate-webhook."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from obfbroker.zoomsim.seed import (
    ALICE_ID,
    BOB_ID,
    DEMO_ACCOUNT_ID,
    DEMO_CLIENT_ID,
    DEMO_WEBHOOK_SECRET_TOKEN,
)
from obfbroker.zoomsim.webhooks import (
    DEAUTHORIZATION_TIMEOUT,
    URL_VALIDATION_TIMEOUT,
    WebhookSender,
    sign_zoom_webhook,
)
from tests.support.http import TLS
from tests.support.servers import free_port, serve_app
from tests.zoomsim.helpers import bearer, connect, refresh

INVALID_GRANT = {"reason": "Invalid Token!", "error": "invalid_grant"}
OTHER_CLIENT = ("other-client-id", "other-client-secret")
OTHER_REDIRECT = "https://other.example/cb"
ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@dataclass
class Captured:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A capturing webhook endpoint; each test sets how it answers."""

    url: str = ""
    requests: list[Captured] = field(default_factory=list)
    secret: str = DEMO_WEBHOOK_SECRET_TOKEN  # used to answer url validation
    mode: str = "ok"  # ok | status_500 | not_json | wrong_plain | wrong_encrypted
    delay: float = 0.0
    hook: Callable[[Captured], Awaitable[None]] | None = None

    def clear(self) -> None:
        self.requests.clear()
        self.secret, self.mode, self.delay, self.hook = DEMO_WEBHOOK_SECRET_TOKEN, "ok", 0.0, None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":  # lifespan
            message = await receive()
            await send({"type": f"{message['type']}.complete"})
            return
        request = Request(scope, receive)
        captured = Captured(request.url.path, dict(request.headers), await request.body())
        self.requests.append(captured)
        if self.hook is not None:
            await self.hook(captured)
        if self.delay:
            await asyncio.sleep(self.delay)
        await self._answer(captured)(scope, receive, send)

    def _answer(self, captured: Captured) -> Response:
        if self.mode == "status_500":
            return PlainTextResponse("boom", 500)
        if self.mode == "not_json":
            return PlainTextResponse("ok")
        event = captured.json()
        if event["event"] != "endpoint.url_validation":
            return JSONResponse({})
        plain = event["payload"]["plainToken"]
        if self.mode == "wrong_plain":
            plain += "x"
        encrypted = hmac.new(self.secret.encode(), plain.encode(), hashlib.sha256).hexdigest()
        if self.mode == "wrong_encrypted":
            encrypted = encrypted[::-1]
        return JSONResponse({"plainToken": plain, "encryptedToken": encrypted})


@pytest.fixture(scope="module")
def receiver_server() -> Iterator[Receiver]:
    receiver = Receiver()
    with serve_app(receiver) as url:
        receiver.url = url
        yield receiver


@pytest.fixture
def receiver(receiver_server, sim_state) -> Receiver:
    receiver_server.clear()
    return receiver_server


@pytest.fixture
def sender(sim_server) -> WebhookSender:
    return sim_server[0].state.webhooks


@pytest.fixture
def hooked(http, receiver) -> str:
    """The demo app's webhook URL points at the receiver; returns that URL."""
    url = f"{receiver.url}/zoom/webhook"
    assert http.patch(f"/_sim/apps/{DEMO_CLIENT_ID}", json={"webhook_url": url}).status_code == 200
    return url


def deauthorize(http: httpx.Client, user_id: str = ALICE_ID, **body: object) -> httpx.Response:
    return http.post(f"/_sim/users/{user_id}/deauthorize",
                     json={"client_id": DEMO_CLIENT_ID, **body})


def register_other_app(http: httpx.Client, **extra: object) -> None:
    body = {"client_id": OTHER_CLIENT[0], "client_secret": OTHER_CLIENT[1],
            "redirect_uris": [OTHER_REDIRECT], "scopes": ["user:read:user"], **extra}
    assert http.post("/_sim/apps", json=body).status_code == 201


def connect_other_app(http: httpx.Client, user_id: str = ALICE_ID) -> dict:
    code = http.post("/_sim/authorize", json={"client_id": OTHER_CLIENT[0], "user_id": user_id,
                                              "redirect_uri": OTHER_REDIRECT}).json()["code"]
    response = http.post("/oauth/token", auth=OTHER_CLIENT, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": OTHER_REDIRECT})
    assert response.status_code == 200, response.text
    return response.json()


def expected_signature(secret: str, captured: Captured) -> str:
    """Computed here, independently of the simulator's helper."""
    timestamp = captured.headers["x-zm-request-timestamp"]
    message = b"v0:" + timestamp.encode() + b":" + captured.body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


# -- sign_zoom_webhook ---------------------------------------------------------------------

def test_sign_zoom_webhook_matches_zooms_recipe():
    body = b'{"event":"app_deauthorized","payload":{}}'
    digest = hmac.new(b"s3cret", b"v0:1700000000:" + body, hashlib.sha256).hexdigest()
    assert sign_zoom_webhook("s3cret", 1700000000, body) == f"v0={digest}"
    assert re.fullmatch(r"v0=[0-9a-f]{64}", sign_zoom_webhook("x", 0, b""))
    assert sign_zoom_webhook("s3cret", 1700000001, body) != f"v0={digest}"


# -- deauthorize ---------------------------------------------------------------------------

def test_deauthorize_revokes_the_apps_grants_and_sends_app_deauthorized(http, hooked, receiver):
    register_other_app(http)
    demo_tokens, other_tokens = connect(http), connect_other_app(http)
    bob_tokens = connect(http, BOB_ID)
    before = time.time()

    response = deauthorize(http)

    assert response.status_code == 200
    assert response.json() == {"user_id": ALICE_ID, "client_id": DEMO_CLIENT_ID,
                               "revoked_grants": 1,
                               "webhook": {"url": hooked, "status_code": 200}}
    # The demo app's grant is dead, like /revoke ...
    assert refresh(http, demo_tokens["refresh_token"]).json() == INVALID_GRANT
    me = http.get("/v2/users/me", headers=bearer(demo_tokens["access_token"]))
    assert (me.status_code, me.json()) == (401, {"code": 124, "message": "Invalid access token."})
    # ... but only that app's grants of that user.
    assert http.post("/oauth/token", auth=OTHER_CLIENT, data={
        "grant_type": "refresh_token", "refresh_token": other_tokens["refresh_token"]}
    ).status_code == 200
    assert refresh(http, bob_tokens["refresh_token"]).status_code == 200

    [captured] = receiver.requests
    assert captured.path == "/zoom/webhook"
    assert captured.headers["content-type"] == "application/json"
    assert captured.headers["x-zm-signature"] == expected_signature(DEMO_WEBHOOK_SECRET_TOKEN,
                                                                    captured)
    timestamp = int(captured.headers["x-zm-request-timestamp"])
    assert int(before) <= timestamp <= time.time() + 1

    event = captured.json()
    assert list(event) == ["event", "event_ts", "payload"]
    assert event["event"] == "app_deauthorized"
    assert isinstance(event["event_ts"], int) and event["event_ts"] // 1000 == timestamp
    payload = event["payload"]
    assert list(payload) == ["account_id", "user_id", "signature", "deauthorization_time",
                             "client_id", "user_data_retention"]
    assert payload["account_id"] == DEMO_ACCOUNT_ID
    assert payload["user_id"] == ALICE_ID
    assert payload["client_id"] == DEMO_CLIENT_ID
    assert payload["user_data_retention"] == "false"  # a string, as Zoom sends it
    assert re.fullmatch(r"[0-9a-f]{64}", payload["signature"])
    assert ISO_MS.fullmatch(payload["deauthorization_time"])
    parsed = datetime.fromisoformat(payload["deauthorization_time"].replace("Z", "+00:00"))
    assert round(parsed.timestamp() * 1000) == event["event_ts"]

    stats = http.get("/_sim/stats").json()
    assert (stats["deauthorizations"], stats["webhooks_sent"], stats["webhook_failures"]) == (1, 1, 0)
    assert stats["revokes"] == 0


def test_each_deauthorization_has_its_own_signature_field(http, hooked, receiver):
    deauthorize(http)
    deauthorize(http)
    first, second = (c.json()["payload"]["signature"] for c in receiver.requests)
    assert first != second
    assert deauthorize(http).json()["revoked_grants"] == 0  # nothing left, still sent
    assert len(receiver.requests) == 3


@pytest.mark.parametrize("choice", ["true", "false"])
def test_user_data_retention_is_chosen_by_the_control_body(http, hooked, receiver, choice):
    assert deauthorize(http, user_data_retention=choice).status_code == 200
    assert receiver.requests[-1].json()["payload"]["user_data_retention"] == choice


@pytest.mark.parametrize("bad", [True, "yes", None])
def test_user_data_retention_must_be_the_string_true_or_false(http, hooked, receiver, bad):
    response = deauthorize(http, user_data_retention=bad)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert receiver.requests == []


def test_deauthorize_unknown_ids_and_bad_body(http, receiver):
    assert deauthorize(http, "ghost").status_code == 404
    response = deauthorize(http, client_id="ghost")
    assert (response.status_code, response.json()["error"]) == (404, "not_found")
    assert http.post(f"/_sim/users/{ALICE_ID}/deauthorize", json={}).status_code == 400
    assert http.get("/_sim/stats").json()["deauthorizations"] == 0


def test_no_webhook_without_webhook_url(http, receiver):
    tokens = connect(http)  # the demo app starts without a webhook_url
    response = deauthorize(http)
    assert response.status_code == 200
    assert response.json() == {"user_id": ALICE_ID, "client_id": DEMO_CLIENT_ID,
                               "revoked_grants": 1, "webhook": None,
                               "webhook_error": "app has no webhook_url"}
    assert refresh(http, tokens["refresh_token"]).json() == INVALID_GRANT
    assert receiver.requests == []
    assert http.get("/_sim/stats").json()["webhooks_sent"] == 0


def test_no_webhook_without_secret_token(http, receiver):
    register_other_app(http, webhook_url=f"{receiver.url}/zoom/webhook")
    connect_other_app(http)
    response = http.post(f"/_sim/users/{ALICE_ID}/deauthorize",
                         json={"client_id": OTHER_CLIENT[0]})
    assert response.json() == {"user_id": ALICE_ID, "client_id": OTHER_CLIENT[0],
                               "revoked_grants": 1, "webhook": None,
                               "webhook_error": "app has no webhook_secret_token"}
    assert receiver.requests == []


def test_receiver_down_still_returns_200(http, receiver):
    url = f"http://127.0.0.1:{free_port()}/zoom/webhook"  # nothing listens there
    http.patch(f"/_sim/apps/{DEMO_CLIENT_ID}", json={"webhook_url": url})
    tokens = connect(http)
    response = deauthorize(http)
    assert response.status_code == 200
    body = response.json()
    assert body["revoked_grants"] == 1
    assert body["webhook"]["url"] == url
    assert body["webhook"]["status_code"] is None
    assert isinstance(body["webhook"]["error"], str) and body["webhook"]["error"]
    assert refresh(http, tokens["refresh_token"]).json() == INVALID_GRANT
    stats = http.get("/_sim/stats").json()
    assert (stats["webhooks_sent"], stats["webhook_failures"]) == (1, 1)


def test_receiver_error_status_is_reported(http, hooked, receiver):
    receiver.mode = "status_500"
    assert deauthorize(http).json()["webhook"] == {"url": hooked, "status_code": 500}
    assert http.get("/_sim/stats").json()["webhook_failures"] == 0  # it answered


def test_slow_receiver_times_out(http, hooked, receiver, sender, monkeypatch):
    assert DEAUTHORIZATION_TIMEOUT == sender.deauthorization_timeout == 10
    monkeypatch.setattr(sender, "deauthorization_timeout", 0.3)
    receiver.delay = 2
    response = deauthorize(http)
    assert response.status_code == 200
    assert response.json()["webhook"] == {"url": hooked, "status_code": None,
                                          "error": "timed out after 0.3 s"}


def test_webhook_is_sent_after_revoking_without_blocking_the_simulator(http, hooked, receiver,
                                                                       base_url):
    """While the simulator waits for the receiver, it keeps serving: the receiver calls back."""
    tokens = connect(http)
    seen: dict[str, object] = {}

    async def call_back(_captured: Captured) -> None:
        async with httpx.AsyncClient(verify=TLS, base_url=base_url, timeout=3) as client:
            answer = await client.post("/oauth/token", auth=(DEMO_CLIENT_ID, "demo-client-secret"),
                                       data={"grant_type": "refresh_token",
                                             "refresh_token": tokens["refresh_token"]})
            seen["refresh"] = answer.json()
            seen["stats"] = (await client.get("/_sim/stats")).json()

    receiver.hook = call_back
    response = deauthorize(http)
    assert response.json()["webhook"]["status_code"] == 200
    assert seen["refresh"] == INVALID_GRANT  # the grant was already dead when Zoom called
    assert seen["stats"]["deauthorizations"] == 1


def test_simulated_clock_drives_the_timestamps(http, hooked, receiver):
    advance_by = 3 * 86400 + 0.5
    assert http.post("/_sim/clock", json={"advance_seconds": advance_by}).status_code == 200
    sim_now = time.time() + advance_by
    deauthorize(http)
    http.post(f"/_sim/apps/{DEMO_CLIENT_ID}/validate-webhook")
    for captured in receiver.requests:
        timestamp = int(captured.headers["x-zm-request-timestamp"])
        assert abs(timestamp - sim_now) < 5
        assert captured.json()["event_ts"] // 1000 == timestamp
        assert captured.headers["x-zm-signature"] == expected_signature(
            DEMO_WEBHOOK_SECRET_TOKEN, captured)
    deauth_time = receiver.requests[0].json()["payload"]["deauthorization_time"]
    parsed = datetime.fromisoformat(deauth_time.replace("Z", "+00:00"))
    assert abs(parsed.timestamp() - sim_now) < 5


# -- validate-webhook ----------------------------------------------------------------------

def test_validate_webhook_valid(http, hooked, receiver):
    response = http.post(f"/_sim/apps/{DEMO_CLIENT_ID}/validate-webhook")
    assert response.status_code == 200
    assert response.json() == {"valid": True, "status_code": 200}
    [captured] = receiver.requests
    assert captured.path == "/zoom/webhook"
    assert captured.headers["content-type"] == "application/json"
    assert captured.headers["x-zm-signature"] == expected_signature(DEMO_WEBHOOK_SECRET_TOKEN,
                                                                    captured)
    event = captured.json()
    assert list(event) == ["event", "payload", "event_ts"]
    assert event["event"] == "endpoint.url_validation"
    assert list(event["payload"]) == ["plainToken"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", event["payload"]["plainToken"])
    assert isinstance(event["event_ts"], int)
    assert http.get("/_sim/stats").json()["webhooks_sent"] == 1


def test_validate_webhook_sends_a_fresh_plain_token_each_time(http, hooked, receiver):
    http.post(f"/_sim/apps/{DEMO_CLIENT_ID}/validate-webhook")
    http.post(f"/_sim/apps/{DEMO_CLIENT_ID}/validate-webhook")
    first, second = (c.json()["payload"]["plainToken"] for c in receiver.requests)
    assert first != second


@pytest.mark.parametrize(("mode", "secret", "status_code", "reason"), [
    ("ok", "some-other-secret", 200,
     "encryptedToken is not hex HMAC-SHA256(webhook_secret_token, plainToken)"),
    ("wrong_encrypted", DEMO_WEBHOOK_SECRET_TOKEN, 200,
     "encryptedToken is not hex HMAC-SHA256(webhook_secret_token, plainToken)"),
    ("wrong_plain", DEMO_WEBHOOK_SECRET_TOKEN, 200, "plainToken does not match the one sent"),
    ("status_500", DEMO_WEBHOOK_SECRET_TOKEN, 500, "expected status 200, got 500"),
    ("not_json", DEMO_WEBHOOK_SECRET_TOKEN, 200, "response body is not JSON"),
])
def test_validate_webhook_invalid_answers(http, hooked, receiver, mode, secret, status_code,
                                          reason):
    receiver.mode, receiver.secret = mode, secret
    response = http.post(f"/_sim/apps/{DEMO_CLIENT_ID}/validate-webhook")
    assert response.status_code == 200
    assert response.json() == {"valid": False, "status_code": status_code, "reason": reason}


def test_validate_webhook_without_url_secret_or_receiver(http, receiver):
    assert http.post("/_sim/apps/ghost/validate-webhook").status_code == 404
    assert http.post(f"/_sim/apps/{DEMO_CLIENT_ID}/validate-webhook").json() == {
        "valid": False, "status_code": None, "reason": "app has no webhook_url"}
    register_other_app(http, webhook_url=f"{receiver.url}/zoom/webhook")
    assert http.post(f"/_sim/apps/{OTHER_CLIENT[0]}/validate-webhook").json() == {
        "valid": False, "status_code": None, "reason": "app has no webhook_secret_token"}
    assert receiver.requests == []

    http.patch(f"/_sim/apps/{DEMO_CLIENT_ID}",
               json={"webhook_url": f"http://127.0.0.1:{free_port()}/zoom/webhook"})
    down = http.post(f"/_sim/apps/{DEMO_CLIENT_ID}/validate-webhook").json()
    assert (down["valid"], down["status_code"]) == (False, None)
    assert isinstance(down["reason"], str) and down["reason"]
    assert http.get("/_sim/stats").json()["webhook_failures"] == 1


def test_validate_webhook_slow_answer_fails(http, hooked, receiver, sender, monkeypatch):
    assert URL_VALIDATION_TIMEOUT == sender.url_validation_timeout == 3
    monkeypatch.setattr(sender, "url_validation_timeout", 0.3)
    receiver.delay = 2
    assert http.post(f"/_sim/apps/{DEMO_CLIENT_ID}/validate-webhook").json() == {
        "valid": False, "status_code": None, "reason": "timed out after 0.3 s"}


def test_reset_zeroes_the_webhook_counters(http, hooked, receiver):
    deauthorize(http)
    http.post("/_sim/reset")
    stats = http.get("/_sim/stats").json()
    assert (stats["deauthorizations"], stats["webhooks_sent"], stats["webhook_failures"]) == (0, 0, 0)
    assert http.get(f"/_sim/apps/{DEMO_CLIENT_ID}").json()["webhook_url"] is None
