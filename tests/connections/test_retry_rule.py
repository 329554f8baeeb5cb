"""The one retry rule for calls to Zoom (connections/retry.py), counted call by call: a 429 is
retried longer than an outage, a long Retry-After is not waited for, anything else is an answer.
Zoom's answers here say ``Retry-After: 0``, so nothing waits."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from obfbroker.connections.errors import ZoomDown
from obfbroker.connections.retry import ATTEMPTS, RATE_LIMITED_ATTEMPTS, retry_transient
from obfbroker.zoom.errors import ZoomInvalidGrant, ZoomRateLimited, ZoomUnavailable


def rate_limited(after: float = 0) -> ZoomRateLimited:
    return ZoomRateLimited("rate limited", retry_after=after)


def unavailable() -> ZoomUnavailable:
    return ZoomUnavailable("server error", status_code=502, retry_after=0)


def answering(*outcomes: Exception | str) -> tuple[list[int], object]:
    """A call that answers ``outcomes`` in turn (raising the exceptions), and its call count."""
    calls = [0]
    script: Iterator[Exception | str] = iter(outcomes)

    async def call() -> str:
        calls[0] += 1
        outcome = next(script)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return calls, call


def run(call) -> str:
    return asyncio.run(retry_transient(call, what="mint"))


def test_a_run_of_429s_is_retried_until_zoom_answers():
    calls, call = answering(*(rate_limited() for _ in range(RATE_LIMITED_ATTEMPTS - 1)), "token")
    assert run(call) == "token"
    assert calls[0] == RATE_LIMITED_ATTEMPTS


def test_429s_give_up_after_the_last_attempt_as_rate_limited():
    calls, call = answering(*(rate_limited() for _ in range(RATE_LIMITED_ATTEMPTS + 1)))
    with pytest.raises(ZoomDown) as down:
        run(call)
    assert calls[0] == RATE_LIMITED_ATTEMPTS and down.value.rate_limited


def test_an_outage_gives_up_sooner_than_rate_limiting():
    assert ATTEMPTS < RATE_LIMITED_ATTEMPTS
    calls, call = answering(*(unavailable() for _ in range(RATE_LIMITED_ATTEMPTS)))
    with pytest.raises(ZoomDown) as down:
        run(call)
    assert calls[0] == ATTEMPTS and not down.value.rate_limited


def test_429s_between_outage_answers_do_not_extend_the_outage_count():
    calls, call = answering(unavailable(), rate_limited(), unavailable(), rate_limited(), "token")
    assert run(call) == "token" and calls[0] == 5


def test_a_long_retry_after_is_not_waited_for():
    calls, call = answering(rate_limited(after=60), "token")
    with pytest.raises(ZoomDown) as down:
        run(call)
    assert calls[0] == 1 and down.value.headers["Retry-After"] == "60", "Zoom's wait is passed on"


def test_anything_else_is_an_answer_at_once():
    calls, call = answering(ZoomInvalidGrant("invalid_grant"), "token")
    with pytest.raises(ZoomInvalidGrant):
        run(call)
    assert calls[0] == 1
