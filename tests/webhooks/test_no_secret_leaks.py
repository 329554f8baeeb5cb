"""The signing secret is sealed at rest and appears in no response but the PUT, no row, no log."""

from __future__ import annotations

import asyncio

from tests.support.customer_webhooks import DELIVERIES, WEBHOOKS, Customer, Outbox
from tests.support.secrets_at_rest import dump_and_decrypt
from tests.support.stack import Stack
from tests.support.webhook_receivers import Receiver


def test_the_secret_is_only_in_the_put_response(stack: Stack, customer: Customer, receiver: Receiver,
                                                outbox: Outbox, captured_logs):
    first_secret = customer.secret
    rotated = customer.configure(receiver.url)
    assert rotated["secret"] != first_secret
    receiver.script = [503]
    message_id = outbox.emit(customer.account_id, "test.leak", {"hello": "world"})
    assert outbox.deliver() == 1
    outbox.advance(seconds=10)
    assert outbox.deliver() == 1

    responses = [customer.api.get(WEBHOOKS), customer.api.get(DELIVERIES),
                 customer.api.post(f"{DELIVERIES}/{message_id}/retry"),
                 customer.api.get(DELIVERIES, params={"limit": 1})]
    dump, sealed_plain = asyncio.run(dump_and_decrypt(stack))
    assert customer.secret in sealed_plain, "the current secret is stored, sealed"
    assert first_secret not in sealed_plain, "a rotated secret is gone"

    signatures = {r.headers["webhook-signature"].split(",", 1)[1] for r in receiver.received}
    texts = {
        "responses": "\n".join(f"{r.status_code} {dict(r.headers)} {r.text}" for r in responses),
        "database": dump,
        "logs": "\n".join(captured_logs.lines),
    }
    assert any("webhook delivery attempt" in line for line in captured_logs.lines)
    for where, text in texts.items():
        for secret in (first_secret, customer.secret, *(s.removeprefix("whsec_")
                                                        for s in (first_secret, customer.secret))):
            assert secret not in text, f"a webhook secret appears in the {where}"
        for signature in signatures:
            assert signature not in text, f"a signature appears in the {where}"
    assert message_id in texts["database"]
