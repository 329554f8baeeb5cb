"""The shared claim under ``Idempotency-Key`` and the code receipts of connection-create: a request
that finds its key owned waits for the owner's outcome, gives up with its own 409 at the deadline,
takes over a claim abandoned mid-way, and may claim again once a failed owner released it. The
HTTP tests cannot stage these timings; here they run against the database directly."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from obfbroker import idempotency, request_claims
from obfbroker.accounts.service import create_account
from obfbroker.clock import OffsetClock
from obfbroker.connections import receipts
from obfbroker.db.session import transaction
from obfbroker.errors import Conflict
from obfbroker.runtime import Runtime
from obfbroker.settings import Settings
from tests.support.databases import TEST_KEY

WAIT_SECONDS = 0.3
BODY = b'{"bot_name": "Notes"}'


def with_runtime(database_url: str, work: Callable[[Runtime, OffsetClock, str], Awaitable[Any]],
                 *, wait_seconds: float = WAIT_SECONDS) -> Any:
    async def run() -> Any:
        clock = OffsetClock()
        settings = Settings(database_url=database_url, encryption_keys=TEST_KEY,
                            duplicate_request_wait_seconds=wait_seconds)
        runtime = await Runtime.start(settings, clock=clock)
        try:
            async with transaction(runtime.sessions) as session:
                account, _ = await create_account(session, runtime.hasher, name="claims",
                                                  now=runtime.clock.now())
            return await work(runtime, clock, account.id)
        finally:
            await runtime.close()

    return asyncio.run(run())


async def claim_key(runtime: Runtime, account_id: str, body: bytes = BODY):
    return await idempotency.claim(runtime.idempotency, account_id=account_id, operation="create_bot",
                                   key="k1", request=body)


def test_a_waiter_replays_the_answer_the_owner_records_meanwhile(database_url: str):
    async def work(runtime: Runtime, _: OffsetClock, account_id: str) -> None:
        owned = await claim_key(runtime, account_id)
        assert isinstance(owned, idempotency.IdempotencyRecord)
        waiter = asyncio.create_task(claim_key(runtime, account_id))
        await asyncio.sleep(0.1)
        assert not waiter.done(), "the waiter waits while the owner is at work"
        async with transaction(runtime.sessions) as session:
            await idempotency.complete(session, runtime.idempotency, owned, status=201,
                                       body={"bot_id": "bot_1"})
        assert await waiter == idempotency.Replay(201, {"bot_id": "bot_1"})

    with_runtime(database_url, work)


def test_a_waiter_gives_up_at_its_deadline_with_its_own_409(database_url: str):
    async def work(runtime: Runtime, _: OffsetClock, account_id: str) -> None:
        await claim_key(runtime, account_id)
        with pytest.raises(Conflict) as refused:
            await claim_key(runtime, account_id)
        assert refused.value.code == "idempotency_request_in_progress"
        assert refused.value.headers == {"Retry-After": "2"}

        digest = "d" * 64
        await receipts.claim(runtime.sessions, account_id=account_id, digest=digest,
                             clock=runtime.clock.now, wait_seconds=WAIT_SECONDS)
        with pytest.raises(Conflict) as busy:
            await receipts.claim(runtime.sessions, account_id=account_id, digest=digest,
                                 clock=runtime.clock.now, wait_seconds=WAIT_SECONDS)
        assert busy.value.code == "code_exchange_in_progress"
        assert busy.value.headers == {"Retry-After": "2"}

    with_runtime(database_url, work)


def test_another_body_is_refused_at_once_even_while_the_owner_is_at_work(database_url: str):
    async def work(runtime: Runtime, _: OffsetClock, account_id: str) -> None:
        await claim_key(runtime, account_id)
        with pytest.raises(Conflict) as refused:
            # The owner never finishes and the wait is two minutes: only an answer at once gets here
            # (the guard only turns a wait into a failure instead of a hang).
            await asyncio.wait_for(claim_key(runtime, account_id, body=b'{"bot_name": "Other"}'), 60)
        assert refused.value.code == "idempotency_key_reused"

    with_runtime(database_url, work, wait_seconds=120)


def test_a_claim_abandoned_mid_way_is_taken_over(database_url: str):
    async def work(runtime: Runtime, clock: OffsetClock, account_id: str) -> None:
        first = await claim_key(runtime, account_id)
        clock.advance(request_claims.ABANDONED_AFTER + timedelta(seconds=1))
        second = await claim_key(runtime, account_id)
        assert isinstance(second, idempotency.IdempotencyRecord) and second.id != first.id

    with_runtime(database_url, work)


def test_a_code_receipt_abandoned_mid_way_is_taken_over_on_the_runtimes_clock(database_url: str):
    async def work(runtime: Runtime, clock: OffsetClock, account_id: str) -> None:
        digest = "f" * 64
        first = await receipts.claim(runtime.sessions, account_id=account_id, digest=digest,
                                     clock=runtime.clock.now, wait_seconds=WAIT_SECONDS)
        clock.advance(request_claims.ABANDONED_AFTER + timedelta(seconds=1))
        second = await receipts.claim(runtime.sessions, account_id=account_id, digest=digest,
                                      clock=runtime.clock.now, wait_seconds=WAIT_SECONDS)
        assert second.receipt_id not in (None, first.receipt_id), "taken over: the owner is gone"

    with_runtime(database_url, work)


def test_a_released_claim_can_be_claimed_again(database_url: str):
    async def work(runtime: Runtime, _: OffsetClock, account_id: str) -> None:
        digest = "e" * 64
        first = await receipts.claim(runtime.sessions, account_id=account_id, digest=digest,
                                     clock=runtime.clock.now, wait_seconds=WAIT_SECONDS)
        await receipts.release(runtime.sessions, first.receipt_id)
        again = await receipts.claim(runtime.sessions, account_id=account_id, digest=digest,
                                     clock=runtime.clock.now, wait_seconds=WAIT_SECONDS)
        assert again.receipt_id not in (None, first.receipt_id) and again.connection_id is None

    with_runtime(database_url, work)
