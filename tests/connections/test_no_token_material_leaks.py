"""No response, log line or database row holds a token or secret in plain text."""

from __future__ import annotations

import asyncio

from tests.support.customers import make_customer
from tests.support.secrets_at_rest import dump_and_decrypt
from tests.support.sim import REDIRECT_URI
from tests.support.stack import Stack


def test_no_response_log_or_row_contains_secrets(stack: Stack, captured_logs):
    sim = stack.sim
    customer = make_customer(stack)
    alice, bob = sim.create_user("Alice"), sim.create_user("Bob")
    responses, codes = [], []
    api = customer.api
    responses.append(api.get("/api/v1/zoom/oauth/app"))
    responses.append(api.get("/api/v1/zoom/oauth/authorize-url", params={"redirect_uri": REDIRECT_URI}))
    for user in (alice, bob, alice):
        code = sim.authorize(customer.app, user["id"])
        codes.append(code)
        body = {"code": code, "redirect_uri": REDIRECT_URI, "metadata": {"t": user["id"]}}
        responses.append(api.post("/api/v1/zoom/oauth/connections", json=body))
        responses.append(api.post("/api/v1/zoom/oauth/connections", json=body))  # retry path
    responses.append(api.post("/api/v1/zoom/oauth/connections",
                              json={"code": codes[0], "redirect_uri": REDIRECT_URI + "x"}))  # rejected
    responses.append(api.get("/api/v1/zoom/oauth/connections"))
    responses.append(api.get(f"/api/v1/zoom/oauth/connections/{alice['id']}"))
    dump, secrets_plain = asyncio.run(dump_and_decrypt(stack))
    responses.append(api.delete(f"/api/v1/zoom/oauth/connections/{bob['id']}"))
    dump_after, _ = asyncio.run(dump_and_decrypt(stack))

    secrets = set(secrets_plain) | set(codes) | {
        customer.app.client_secret, customer.app.webhook_secret_token, customer.api_key}
    token_like = {s for s in secrets_plain if s not in {customer.app.client_secret,
                                                        customer.app.webhook_secret_token}}
    assert len(token_like) >= 4, "alice's and bob's access and refresh tokens were found sealed"
    texts = {
        "responses": "\n".join(f"{r.status_code} {dict(r.headers)} {r.text}" for r in responses),
        "logs": "\n".join(captured_logs.lines),
        "database": dump + dump_after,
    }
    assert captured_logs.lines, "the test must see the service's log lines"
    for where, text in texts.items():
        for secret in secrets:
            if where == "database" and secret == customer.api_key:
                continue
            assert secret not in text, f"a secret appears in the {where}"
    assert customer.api_key not in texts["database"]
