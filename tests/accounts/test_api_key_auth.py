"""Every /api/v1 route needs `Authorization: Token <key>`: no key is 401, a key that was sent but
is unknown or revoked is 403 `invalid_api_key` (what MeetStream's clients expect), both JSON."""

from __future__ import annotations

import pytest

from tests.support.stack import Stack

ROUTES = [
    ("get", "/api/v1/zoom/oauth/app"), ("put", "/api/v1/zoom/oauth/app"),
    ("delete", "/api/v1/zoom/oauth/app"), ("get", "/api/v1/zoom/oauth/apps"),
    ("post", "/api/v1/zoom/oauth/apps"),
    ("get", "/api/v1/zoom/oauth/apps/{app_id}"), ("put", "/api/v1/zoom/oauth/apps/{app_id}"),
    ("delete", "/api/v1/zoom/oauth/apps/{app_id}"), ("get", "/api/v1/zoom/oauth/authorize-url"),
    ("get", "/api/v1/zoom/oauth/connections"), ("post", "/api/v1/zoom/oauth/connections"),
    ("get", "/api/v1/zoom/oauth/connections/{zoom_user_id}"),
    ("delete", "/api/v1/zoom/oauth/connections/{zoom_user_id}"),
    ("patch", "/api/v1/zoom/oauth/connections/{zoom_user_id}"),
    ("post", "/api/v1/zoom/oauth/connections/{zoom_user_id}/reconnect-url"),
    ("post", "/api/v1/bots/create_bot"), ("get", "/api/v1/bots/{bot_id}"), ("get", "/api/v1/bots"),
    ("post", "/api/v1/bots/{bot_id}/leave"), ("get", "/api/v1/bots/{bot_id}/status"),
    ("get", "/api/v1/bots/{bot_id}/detail"), ("get", "/api/v1/bots/{bot_id}/remove_bot"),
    ("put", "/api/v1/webhooks"), ("get", "/api/v1/webhooks"), ("delete", "/api/v1/webhooks"),
    ("get", "/api/v1/webhooks/deliveries"), ("post", "/api/v1/webhooks/deliveries/{message_id}/retry"),
    ("post", "/api/v1/zoom/token-links"), ("get", "/api/v1/zoom/token-links"),
    ("get", "/api/v1/zoom/token-links/{link_id}"), ("delete", "/api/v1/zoom/token-links/{link_id}"),
    ("get", "/api/v1/zoom/token-links/{link_id}/uses"),
]


def test_every_api_route_is_listed_here(stack: Stack):
    """A new /api/v1 route must join ROUTES so the checks below cover it."""
    spec = stack.client().get("/openapi.json").json()
    documented = {(method, path) for path, ops in spec["paths"].items() if path.startswith("/api/v1")
                  for method in ops}
    listed = set(ROUTES)
    assert documented == listed


# header -> (status, code): 401 when no key reached us, 403 when a key did and was rejected.
BAD_HEADERS = {
    None: (401, "missing_api_key"),
    "": (401, "missing_api_key"),
    "Token": (401, "malformed_authorization"),
    "Basic dXNlcjpwYXNz": (401, "malformed_authorization"),
    "obf_live_x": (401, "malformed_authorization"),
    "Token obf_live_wrong": (403, "invalid_api_key"),
    "Bearer obf_live_wrong": (403, "invalid_api_key"),
    "Token obf_live_a b": (403, "invalid_api_key"),
}


def concrete(path: str) -> str:
    return (path.replace("{zoom_user_id}", "abc").replace("{bot_id}", "bot_abc")
            .replace("{message_id}", "msg_abc"))


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_no_key_is_401_and_a_rejected_key_is_403_json(stack: Stack, method, path):
    with stack.client() as api:
        for header, (status, code) in BAD_HEADERS.items():
            headers = {"Authorization": header} if header is not None else {}
            response = api.request(method.upper(), concrete(path), headers=headers, json={})
            assert (response.status_code, response.json()["code"]) == (status, code), (header, response.text)
            body = response.json()
            assert body["detail"] == body["message"]
            if status == 401:
                assert "Token" in response.headers["www-authenticate"]
            else:
                assert "received but rejected" in body["detail"]
                assert "obf_live_wrong" not in response.text and "www-authenticate" not in response.headers


def test_a_revoked_key_is_403_with_the_same_answer_as_an_unknown_one(stack: Stack):
    import asyncio

    from obfbroker.accounts.models import Account
    from obfbroker.accounts.service import create_api_key, list_api_keys, revoke_api_key
    from obfbroker.db.session import transaction
    from obfbroker.runtime import Runtime

    account_id, key = stack.create_account()

    async def second_key_then_revoke_the_first() -> str:
        runtime = await Runtime.start(stack.settings)
        try:
            async with transaction(runtime.sessions) as session:
                account = await session.get(Account, account_id)
                other = await create_api_key(session, runtime.hasher, account=account, name="second",
                                             now=runtime.clock.now())
                (first,) = [k for k in await list_api_keys(session, account) if k.name == "default"]
                await revoke_api_key(session, account, first.id, now=runtime.clock.now())
                return other
        finally:
            await runtime.close()

    other = asyncio.run(second_key_then_revoke_the_first())
    with stack.client(key) as revoked, stack.client("obf_live_never-issued") as unknown, \
            stack.client(other) as good:
        answers = [c.get("/api/v1/zoom/oauth/connections") for c in (revoked, unknown)]
        assert [a.status_code for a in answers] == [403, 403]
        assert answers[0].json() == answers[1].json(), "nothing tells a revoked key from an unknown one"
        assert answers[0].json()["code"] == "invalid_api_key"
        assert good.get("/api/v1/zoom/oauth/connections").status_code == 200


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
