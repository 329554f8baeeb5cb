"""Every /api/v1 route needs `Authorization: Token <key>`; failures are 401 JSON."""

from __future__ import annotations

import pytest

from tests.conftest import Stack

ROUTES = [
    ("get", "/api/v1/zoom/oauth/app"), ("put", "/api/v1/zoom/oauth/app"),
    ("delete", "/api/v1/zoom/oauth/app"), ("get", "/api/v1/zoom/oauth/authorize-url"),
    ("get", "/api/v1/zoom/oauth/connections"), ("post", "/api/v1/zoom/oauth/connections"),
    ("get", "/api/v1/zoom/oauth/connections/{zoom_user_id}"),
    ("delete", "/api/v1/zoom/oauth/connections/{zoom_user_id}"),
    ("post", "/api/v1/bots/create_bot"), ("get", "/api/v1/bots/{bot_id}"), ("get", "/api/v1/bots"),
    ("post", "/api/v1/bots/{bot_id}/leave"), ("get", "/api/v1/bots/{bot_id}/status"),
    ("get", "/api/v1/bots/{bot_id}/detail"), ("get", "/api/v1/bots/{bot_id}/remove_bot"),
    ("put", "/api/v1/webhooks"), ("get", "/api/v1/webhooks"), ("delete", "/api/v1/webhooks"),
    ("get", "/api/v1/webhooks/deliveries"), ("post", "/api/v1/webhooks/deliveries/{message_id}/retry"),
]


def test_every_api_route_is_listed_here(stack: Stack):
    """A new /api/v1 route must join ROUTES so the checks below cover it."""
    spec = stack.client().get("/openapi.json").json()
    documented = {(method, path) for path, ops in spec["paths"].items() if path.startswith("/api/v1")
                  for method in ops}
    listed = set(ROUTES)
    assert documented == listed


BAD_HEADERS = [None, "Token obf_live_wrong", "Token", "Basic dXNlcjpwYXNz", "obf_live_x",
               "Token obf_live_a b"]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_requests_without_a_valid_key_are_401_json(stack: Stack, method, path):
    with stack.client() as api:
        for header in BAD_HEADERS:
            headers = {"Authorization": header} if header is not None else {}
            concrete = (path.replace("{zoom_user_id}", "abc").replace("{bot_id}", "bot_abc")
                        .replace("{message_id}", "msg_abc"))
            response = api.request(method.upper(), concrete, headers=headers, json={})
            assert response.status_code == 401, (header, response.text)
            body = response.json()
            assert body["code"] in {"missing_api_key", "invalid_api_key"}
            assert body["detail"] == body["message"]
            assert "Token" in response.headers["www-authenticate"]


def test_a_valid_key_is_accepted_and_bearer_works_too(stack: Stack):
    _, key = stack.create_account()
    with stack.client() as api:
        for scheme in ("Token", "token", "Bearer"):
            response = api.get("/api/v1/zoom/oauth/connections", headers={"Authorization": f"{scheme} {key}"})
            assert response.status_code == 200, response.text


def test_keys_are_stored_only_as_hashes(stack: Stack):
    import asyncio

    from sqlalchemy import select

    from obfbroker.accounts.models import ApiKey
    from obfbroker.runtime import Runtime

    account_id, key = stack.create_account()

    async def rows():
        runtime = await Runtime.start(stack.settings)
        try:
            async with runtime.sessions() as session:
                return list((await session.execute(
                    select(ApiKey).where(ApiKey.account_id == account_id))).scalars())
        finally:
            await runtime.close()

    (row,) = asyncio.run(rows())
    assert key.startswith("obf_live_") and len(key) > 40
    assert row.key_hash != key and key not in repr(row.__dict__)
    assert key.startswith(row.prefix)
