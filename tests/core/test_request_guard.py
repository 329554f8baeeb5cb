"""What every request is held to before a route runs (request_guard.py): bodies over
OBFBROKER_MAX_REQUEST_BODY_BYTES (1 MiB) are refused with 413 before the app reads them whole,
declared or chunked; a repeated parameter or credential header is refused, never resolved by
picking a copy; every token-endpoint answer carries Cache-Control: no-store."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.support.bot_scenes import Scene, fetch_token, launch_spec
from tests.support.customers import make_customer
from tests.support.http import http_get
from tests.support.stack import Stack

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # no SQL involved
LIMIT = 1024 * 1024


def oversized_bot(size: int) -> bytes:
    return json.dumps({"meeting_link": "https://zoom.us/j/123456789",
                       "custom_attributes": {"padding": "x" * size}}).encode()


def test_a_declared_or_chunked_body_over_the_limit_is_a_413_and_creates_nothing(stack: Stack):
    customer = make_customer(stack)
    headers = {"Content-Type": "application/json"}
    declared = customer.api.post("/api/v1/bots/create_bot", content=oversized_bot(2 * LIMIT), headers=headers)
    body = oversized_bot(2 * LIMIT)
    chunked = customer.api.post("/api/v1/bots/create_bot", headers=headers,
                                content=(body[i:i + 65536] for i in range(0, len(body), 65536)))
    for response in (declared, chunked):
        assert response.status_code == 413, response.status_code
        assert response.json()["code"] == "payload_too_large"
        assert response.json()["detail"] == f"Request body too large: at most {LIMIT} bytes"
    assert customer.api.get("/api/v1/bots").json()["bots"] == []


def test_a_body_under_the_limit_reaches_the_api(stack: Stack):
    customer = make_customer(stack)
    response = customer.api.post("/api/v1/bots/create_bot", content=oversized_bot(LIMIT - 4096),
                                 headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.status_code  # (never echo a megabyte into the log)


def test_a_repeated_parameter_is_refused_whichever_copy_is_right(scene: Scene):
    spec = launch_spec(scene.stack, scene.hosted_bot()["bot_id"])
    url = spec["obf_url"].replace(scene.stack.settings.public_url, scene.stack.url)
    headers = {"X-Bot-Id": spec["bot_id"], "X-Webhook-Secret": spec["bot_secret"]}
    number = spec["meeting_number"]
    repeated = [
        http_get(f"{url}?meeting_number={number}&meeting_number=1", headers=headers),
        http_get(f"{url}?meeting_number=1&meeting_number={number}", headers=headers),
        http_get(f"{url}?meeting%5Fnumber={number}&meeting_number={number}", headers=headers),
        http_get(url, params={"meeting_number": number},
                 headers=[*headers.items(), ("X-Webhook-Secret", "wrong")]),
        http_get(url, params={"meeting_number": number},
                 headers=[("X-Bot-Id", "bot_other"), *headers.items()]),
    ]
    for response in repeated:
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "invalid_request"
        assert "more than once" in response.json()["detail"]
        assert response.headers["cache-control"] == "no-store"
    assert spec["bot_secret"] not in "".join(r.text for r in repeated)
    assert scene.stack.sim.stats()["obf_mints"] == 0
    api_key = scene.customer.api_key
    twice = http_get(f"{scene.stack.url}/api/v1/bots",
                     headers=[("Authorization", f"Token {api_key}"), ("Authorization", "Token obf_live_x")])
    assert twice.status_code == 400 and "header authorization" in twice.json()["detail"]
    listed = scene.api.get("/api/v1/bots", params=[("limit", "1"), ("limit", "2")])
    assert listed.status_code == 400 and "query parameter limit" in listed.json()["detail"]
    # A secret sent as a parameter name by mistake is not echoed.
    secret_named = scene.api.get(f"/api/v1/bots?{api_key}=1&{api_key}=2")
    assert secret_named.status_code == 400 and api_key not in secret_named.text
    assert fetch_token(scene.stack, spec).status_code == 200, "one copy of each is served"


def test_every_token_endpoint_answer_is_never_cached(stack: Stack):
    base = f"{stack.url}/token-server/zoom"
    answers = {
        "over-long zoom_user_id": http_get(f"{base}/obf", params={"meeting_number": "1",
                                                                 "zoom_user_id": "u" * 300}),
        "405": httpx.delete(f"{base}/obf"),
        "404": http_get(f"{base}/nothing-here"),
        "401": http_get(f"{base}/zak", params={"meeting_number": "1"}),
        "413": httpx.post(f"{base}/obf", content=b"x" * (LIMIT + 1)),
    }
    for name, response in answers.items():
        assert response.status_code >= 400, name
        assert response.headers.get("cache-control") == "no-store", (name, response.headers)
        assert response.headers.get("pragma") == "no-cache", name
        assert response.json()["code"], name
