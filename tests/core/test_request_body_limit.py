"""Request bodies over OBFBROKER_MAX_REQUEST_BODY_BYTES (1 MiB) are refused with 413 before the
app reads them whole, declared or chunked, and nothing is created."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Stack
from tests.connections.conftest import make_customer

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
