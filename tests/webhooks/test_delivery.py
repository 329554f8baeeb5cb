"""Delivery over real HTTP: signed per Standard Webhooks, retried with backoff while the
customer's endpoint is down, never lost, given up after 24 h, never sent twice concurrently."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from obfbroker.webhooks.signing import generate_secret, verify
from tests.support.clocks import SteppedClock
from tests.support.customer_webhooks import DELIVERIES, WEBHOOKS, Customer, Outbox, new_customer
from tests.support.held import held_endpoint
from tests.support.http import TLS
from tests.support.servers import free_port, serve_app
from tests.support.stack import Stack
from tests.support.webhook_receivers import Receiver


def parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_a_delivered_event_is_signed_and_verifies(customer: Customer, receiver: Receiver, outbox: Outbox):
    data = {"zoom_user_id": "u1", "email": "ä@example.com", "metadata": {"tenant": 7}}
    message_id = outbox.emit(customer.account_id, "zoom_oauth_connection.connected", data)
    assert message_id is not None and message_id.startswith("msg_")
    assert receiver.received == [], "emit only writes the outbox"

    assert outbox.deliver() == 1
    [hit] = receiver.received
    assert hit.path == "/hooks/obf"
    assert hit.headers["webhook-id"] == message_id
    assert hit.headers["content-type"] == "application/json"
    assert hit.headers["user-agent"] == "obfbroker-webhooks/1"
    assert hit.headers["webhook-signature"].startswith("v1,")
    sent_at = int(hit.headers["webhook-timestamp"])
    assert abs(sent_at - outbox.clock.now().timestamp()) < 60

    envelope = json.loads(hit.body)
    assert envelope["type"] == "zoom_oauth_connection.connected"
    assert envelope["data"] == data
    assert abs(parse_ts(envelope["timestamp"]) - outbox.clock.now()) < timedelta(minutes=1)

    now = outbox.clock.now()
    assert verify(customer.secret, hit.headers, hit.body, now=now)
    assert not verify(generate_secret(), hit.headers, hit.body, now=now)
    assert not verify(customer.secret, hit.headers, hit.body.replace(b"u1", b"u2"), now=now)
    assert not verify(customer.secret, hit.headers, hit.body, now=now + timedelta(minutes=6))

    [attempt] = customer.deliveries()["deliveries"]
    assert attempt["message_id"] == message_id and attempt["attempt"] == 1
    assert attempt["succeeded"] is True and attempt["response_status"] == 200 and attempt["error"] is None
    assert attempt["message_status"] == "delivered" and attempt["next_attempt_at"] is None
    assert attempt["event_type"] == "zoom_oauth_connection.connected"
    assert attempt["response_body"] == "ok"
    assert outbox.deliver() == 0, "a delivered message is never sent again"


def test_an_attempt_records_how_long_the_endpoint_took_to_answer(stack: Stack, customer: Customer):
    clock = SteppedClock()
    outbox = Outbox(stack, clock=clock)

    async def slow(request: Request) -> Response:
        clock.advance(timedelta(seconds=2.5))  # the endpoint takes 2.5 s, on the runtime's clock
        return PlainTextResponse("ok")

    try:
        with serve_app(Starlette(routes=[Route("/slow", slow, methods=["POST"])])) as url:
            customer.configure(f"{url}/slow")
            outbox.emit(customer.account_id)
            assert outbox.deliver() == 1
    finally:
        outbox.close()
    [attempt] = customer.deliveries()["deliveries"]
    assert attempt["succeeded"] is True and attempt["duration_ms"] == 2500


def test_without_an_endpoint_emit_stores_nothing(stack: Stack, outbox: Outbox):
    from obfbroker.outbox.models import WebhookMessage

    customer = new_customer(stack)
    assert outbox.emit(customer.account_id) is None
    assert outbox.count(WebhookMessage) == 0
    assert outbox.deliver() == 0


def test_emit_rolls_back_with_the_change_that_caused_it(customer: Customer, outbox: Outbox):
    from obfbroker.db.session import transaction
    from obfbroker.outbox.models import WebhookMessage
    from obfbroker.outbox.service import emit

    async def work(runtime):
        try:
            async with transaction(runtime.sessions) as session:
                await emit(session, account_id=customer.account_id, event_type="test.event",
                           data={}, now=runtime.clock.now())
                raise RuntimeError("the change failed")
        except RuntimeError:
            pass

    outbox.run(work)
    assert outbox.count(WebhookMessage) == 0


def test_endpoint_down_backs_off_loses_nothing_and_drains_when_it_returns(
        customer: Customer, receiver: Receiver, outbox: Outbox):
    receiver.status = 503
    first = outbox.emit(customer.account_id, "test.first", {"n": 1})
    second = outbox.emit(customer.account_id, "test.second", {"n": 2})

    assert outbox.deliver() == 2
    assert outbox.deliver() == 0, "nothing is due again before its backoff"
    delays = []
    for expected in (5, 30, 120, 600):  # seconds, each +-20 %
        message = outbox.message(first)
        assert message.status == "pending"
        delay = (message.next_attempt_at - outbox.clock.now()).total_seconds()
        assert expected * 0.8 - 1 <= delay <= expected * 1.2 + 1, (expected, delay)
        delays.append(delay)
        outbox.advance(seconds=expected * 1.2 + 1)
        assert outbox.deliver() == 2

    listed = customer.deliveries(limit=200)["deliveries"]
    assert len(listed) == 10
    assert {d["error"] for d in listed} == {"http_503"}
    assert {d["response_status"] for d in listed} == {503}
    assert all(d["message_status"] == "pending" and d["next_attempt_at"] for d in listed)
    assert sorted(d["attempt"] for d in listed if d["message_id"] == first) == [1, 2, 3, 4, 5]

    # The endpoint comes back: the next attempt delivers both, with the very same body.
    receiver.status = 200
    outbox.advance(minutes=40)
    assert outbox.deliver() == 2
    assert outbox.message(first).status == "delivered" and outbox.message(second).status == "delivered"
    for message_id in (first, second):
        hits = [r for r in receiver.received if r.headers["webhook-id"] == message_id]
        assert len(hits) == 6 and len({r.body for r in hits}) == 1
        assert len({r.headers["webhook-timestamp"] for r in hits}) == 6, "re-signed at each send"
        assert verify(customer.secret, hits[-1].headers, hits[-1].body, now=outbox.clock.now())
    assert outbox.deliver() == 0
    newest = customer.deliveries(limit=2)["deliveries"]
    assert all(d["succeeded"] and d["message_status"] == "delivered" for d in newest)


def test_gives_up_24_hours_after_the_event_and_retry_requeues(
        customer: Customer, receiver: Receiver, outbox: Outbox):
    receiver.status = 500
    message_id = outbox.emit(customer.account_id)
    created = outbox.message(message_id).created_at
    rounds = 0
    while outbox.message(message_id).status == "pending":
        rounds += 1
        assert rounds < 40, "the message never gave up"
        outbox.deliver()
        outbox.advance(hours=1)
    message = outbox.message(message_id)
    assert message.status == "failed" and message.next_attempt_at is None
    attempts = customer.deliveries(limit=200)["deliveries"]
    times = [parse_ts(d["attempted_at"]) for d in attempts]
    assert max(times) - created >= timedelta(hours=24) - timedelta(seconds=1)
    assert max(times) - created < timedelta(hours=24, minutes=1), "no attempt after the deadline"
    assert len(attempts) == message.attempts >= 8
    assert all(d["message_status"] == "failed" for d in attempts)
    assert outbox.deliver() == 0

    # The customer fixed their endpoint and asks for the message again.
    receiver.status = 200
    response = customer.api.post(f"{DELIVERIES}/{message_id}/retry")
    assert response.status_code == 202, response.text
    assert response.json() == {"message_id": message_id, "status": "pending"}
    message = outbox.message(message_id)
    assert message.status == "pending" and message.expires_at > message.created_at + timedelta(hours=24)
    assert outbox.deliver() == 1
    assert outbox.message(message_id).status == "delivered"
    assert verify(customer.secret, receiver.received[-1].headers, receiver.received[-1].body,
                  now=outbox.clock.now())

    # Retrying a delivered message sends it once more (same id, same body).
    assert customer.api.post(f"{DELIVERIES}/{message_id}/retry").status_code == 202
    assert outbox.deliver() == 1
    assert receiver.received[-1].body == receiver.received[0].body
    assert receiver.ids() == [message_id] * len(receiver.received)


def test_timeouts_refused_connections_and_redirects_are_failed_attempts(
        stack: Stack, customer: Customer, receiver: Receiver, outbox: Outbox, request):
    quick = stack.settings.model_copy(update={"webhook_send_timeout_seconds": 0.5})
    impatient = replace(stack, settings=quick)
    outbox = Outbox(stack=impatient, clock=outbox.clock)
    request.addfinalizer(outbox.close)
    with held_endpoint() as (url, door):  # answers only once the round is over: never in time
        customer.configure(f"{url}/hooks/obf")
        slow = outbox.emit(customer.account_id, "test.slow")
        assert outbox.deliver() == 1
        assert door.arrivals == 1
    customer.configure(receiver.url)

    receiver.status = 307
    receiver.headers = {"location": "https://elsewhere.example.com/steal"}
    receiver.reply = "x" * 1000
    moved = outbox.emit(customer.account_id, "test.moved")
    outbox.advance(seconds=10)
    assert outbox.deliver() == 2

    customer.configure(f"http://127.0.0.1:{free_port()}/nobody-listens")
    refused = outbox.emit(customer.account_id, "test.refused")
    outbox.advance(seconds=40)
    assert outbox.deliver() == 3

    by_message: dict[str, list[dict]] = {}
    for d in customer.deliveries(limit=200)["deliveries"]:
        by_message.setdefault(d["message_id"], []).append(d)
    assert [d["error"] for d in by_message[slow]] == ["connection_error", "http_307", "timeout"]
    assert [d["error"] for d in by_message[moved]] == ["connection_error", "http_307"]
    assert [d["error"] for d in by_message[refused]] == ["connection_error"]
    redirect = by_message[moved][1]
    assert redirect["response_status"] == 307 and redirect["succeeded"] is False
    assert redirect["response_body"] == "x" * 256, "at most 256 characters of the response are kept"
    assert by_message[refused][0]["response_status"] is None
    assert by_message[slow][-1]["response_status"] is None
    assert all(r.path == "/hooks/obf" for r in receiver.received), "redirects are never followed"


def test_delete_parks_pending_messages_and_a_new_endpoint_resumes_them(
        customer: Customer, receiver: Receiver, outbox: Outbox):
    receiver.status = 503
    message_id = outbox.emit(customer.account_id)
    assert outbox.deliver() == 1
    assert customer.api.delete(WEBHOOKS).status_code == 204
    assert outbox.emit(customer.account_id) is None, "no endpoint, no new messages"

    outbox.advance(hours=1)
    assert outbox.deliver() == 0, "nothing is sent while no endpoint exists"
    message = outbox.message(message_id)
    assert message.status == "pending" and message.next_attempt_at == message.expires_at

    receiver.status = 200
    customer.configure(receiver.url)
    assert outbox.deliver() == 1
    assert outbox.message(message_id).status == "delivered"
    hit = receiver.received[-1]
    assert hit.headers["webhook-id"] == message_id
    assert verify(customer.secret, hit.headers, hit.body, now=outbox.clock.now()), "signed with the new key"


def test_parked_messages_fail_at_their_deadline(customer: Customer, receiver: Receiver, outbox: Outbox):
    message_id = outbox.emit(customer.account_id)
    assert customer.api.delete(WEBHOOKS).status_code == 204
    assert outbox.deliver() == 0
    outbox.advance(hours=24, seconds=1)
    assert outbox.deliver() == 0
    assert outbox.message(message_id).status == "failed"
    assert receiver.received == []


def test_two_workers_never_send_the_same_message(stack: Stack, customer: Customer, receiver: Receiver,
                                                 outbox: Outbox):
    from obfbroker.runtime import Runtime
    from obfbroker.webhooks.delivery import deliver_due

    receiver.delay = 0.02
    sent = [outbox.emit(customer.account_id, "test.race", {"i": i}) for i in range(24)]

    async def race() -> list[int]:
        runtimes = [await Runtime.start(stack.settings, clock=outbox.clock) for _ in range(2)]
        try:
            async with httpx.AsyncClient(verify=TLS) as http:
                made = []
                for _ in range(6):
                    made.extend(await asyncio.gather(*(deliver_due(rt.deliverer, http, limit=5)
                                                       for rt in runtimes)))
                return made
        finally:
            for rt in runtimes:
                await rt.close()

    made = asyncio.run(race())
    assert sum(made) == 24
    assert sorted(receiver.ids()) == sorted(sent), "each message sent exactly once"
    assert {outbox.message(m).status for m in sent} == {"delivered"}
    assert outbox.deliver() == 0


def test_a_lease_keeps_other_workers_off_a_message_being_sent(customer: Customer, outbox: Outbox):
    from obfbroker.webhooks.delivery import LEASE, _claim

    message_id = outbox.emit(customer.account_id)

    async def claim(runtime):
        return await _claim(runtime.deliverer, 10)

    [claimed] = outbox.run(claim)
    assert claimed.message_id == message_id and "whsec_" not in repr(claimed)
    assert outbox.run(claim) == [], "leased: not due for anyone else"
    outbox.advance(seconds=LEASE.total_seconds() + 1)
    assert [c.message_id for c in outbox.run(claim)] == [message_id], "a crashed worker's lease ends"


def test_deliveries_list_pages_newest_first(customer: Customer, receiver: Receiver, outbox: Outbox):
    receiver.status = 503
    for i in range(3):
        outbox.emit(customer.account_id, f"test.page{i}")
    for _ in range(3):
        outbox.deliver()
        outbox.advance(minutes=5)
    everything = customer.deliveries(limit=200)["deliveries"]
    assert len(everything) == 9
    times = [parse_ts(d["attempted_at"]) for d in everything]  # milliseconds: ties are possible
    assert times == sorted(times, reverse=True)

    seen, cursor, pages = [], None, 0
    while True:
        page = customer.deliveries(limit=4, **({"cursor": cursor} if cursor else {}))
        seen += [d["id"] for d in page["deliveries"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and seen == [d["id"] for d in everything]
    assert customer.deliveries(limit=9)["next_cursor"] is None

    for params in ({"cursor": "nope"}, {"cursor": "W10"}):
        response = customer.api.get(DELIVERIES, params=params)
        assert response.status_code == 400 and response.json()["code"] == "invalid_cursor"
    for limit in (0, 201, "x"):
        response = customer.api.get(DELIVERIES, params={"limit": limit})
        assert response.status_code == 400 and response.json()["code"] == "invalid_request"


def test_timestamps_are_utc(customer: Customer, outbox: Outbox):
    outbox.emit(customer.account_id)
    outbox.deliver()
    [attempt] = customer.deliveries()["deliveries"]
    assert attempt["attempted_at"].endswith("Z")
    assert parse_ts(attempt["attempted_at"]).tzinfo == UTC
