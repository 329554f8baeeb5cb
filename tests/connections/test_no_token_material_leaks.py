"""No response, log line or database row holds a token or secret in plain text."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from tests.support.customers import make_customer
from tests.support.sim import REDIRECT_URI
from tests.support.stack import Stack


async def _dump_and_decrypt(stack: Stack) -> tuple[str, list[str]]:
    """Every row of every table as text, plus each sealed value decrypted."""
    from obfbroker.migrations.models import Base
    from obfbroker.runtime import Runtime

    runtime = await Runtime.start(stack.settings)
    try:
        dump, plain = [], []
        async with runtime.sessions() as session:
            for table in Base.metadata.sorted_tables:
                for row in (await session.execute(select(table))).mappings():
                    dump.append(repr(dict(row)))
                    for column in table.columns:
                        value = row[column.name]
                        if column.info.get("encrypted") and value is not None:
                            assert value.startswith("v1."), f"{table.name}.{column.name} not sealed"
                            plain.append(runtime.vault.decrypt(
                                value, table=table.name, column=column.name, row_id=row["id"]))
        return "\n".join(dump), plain
    finally:
        await runtime.close()


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
    dump, secrets_plain = asyncio.run(_dump_and_decrypt(stack))
    responses.append(api.delete(f"/api/v1/zoom/oauth/connections/{bob['id']}"))
    dump_after, _ = asyncio.run(_dump_and_decrypt(stack))

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
