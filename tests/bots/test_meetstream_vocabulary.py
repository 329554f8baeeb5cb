"""The MeetStream reading of every (status, reason) a bot can have: one ``bot_status`` each, the
terminal ones polled to an end, one terminal event kind each. Pure functions, no server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from obfbroker.bots.meetstream import ENDED, FAILED, FAILED_MESSAGES, LIFECYCLE, TERMINAL, vocabulary
from obfbroker.bots.models import BotReason, BotStatus
from obfbroker.runner.adapters.base import END_REASONS, JOIN_REFUSAL_CODES, RETRYABLE_CODES

SOURCE = Path(__file__).resolve().parents[2] / "src" / "obfbroker"


def reason_literals_in_code() -> set[str]:
    """Reasons the runner or the bot service give a bot as bare strings (there must be none:
    they are ``BotReason`` members)."""
    text = "".join(p.read_text() for p in (SOURCE / "runner" / "runner.py", SOURCE / "bots" / "service.py"))
    return set(re.findall(r'BotStatus\.(?:FAILED|ENDED), (?:reason=)?"([a-z_]+)"', text))


def reasons_named_in_code() -> set[str]:
    """Every BotReason member the runner and the bot service name."""
    text = "".join(p.read_text() for p in (SOURCE / "runner" / "runner.py", SOURCE / "bots" / "service.py"))
    return {BotReason[name].value for name in re.findall(r"BotReason\.([A-Z_]+)", text)}


@pytest.mark.parametrize(("status", "reason", "expected"), [
    ("queued", None, "Joining"),
    ("joining", None, "Joining"),
    ("waiting_for_authorizing_user", None, "Joining"),
    ("in_meeting", None, "InMeeting"),
    ("leaving", None, "Leaving"),
    ("ended", "left_by_request", "Stopped"),
    ("ended", "authorizing_user_left", "Stopped"),
    ("ended", "removed", "Stopped"),
    ("ended", "meeting_ended", "Stopped"),
    ("failed", "authorizing_user_never_joined", "NotAllowed"),
    ("failed", "join_denied", "Denied"),
    ("failed", "meeting_not_found", "Error"),
    ("failed", "connection_disconnected", "Error"),
    ("failed", "internal_error", "Error"),
])
def test_each_status_reads_as_one_meetstream_status(status, reason, expected):
    assert vocabulary(status, reason).bot_status == expected


def test_every_status_and_reason_the_code_produces_is_mapped():
    assert set(LIFECYCLE) | {BotStatus.ENDED, BotStatus.FAILED} == set(BotStatus)
    assert reason_literals_in_code() == set(), "reasons are BotReason members, not bare strings"
    assert len(reasons_named_in_code()) > 5, "the reason scan found nothing: the pattern no longer matches"
    # A refusal that is not retried fails the bot with its own code as the reason.
    refusals = JOIN_REFUSAL_CODES - RETRYABLE_CODES
    assert refusals <= set(BotReason), refusals - set(BotReason)
    assert reasons_named_in_code() <= set(BotReason)
    assert set(BotReason) == set(ENDED) | set(FAILED) | set(FAILED_MESSAGES), "every reason has its words"
    assert set(ENDED) >= END_REASONS


def test_no_bot_is_claimed_to_be_recording():
    statuses = {v.bot_status for v in [*LIFECYCLE.values(), *ENDED.values(), *FAILED.values()]}
    assert "Recording" not in statuses


def test_terminal_statuses_end_with_one_stop_event_and_a_status_code():
    kinds = {}
    for status, reasons in ((BotStatus.ENDED, ENDED), (BotStatus.FAILED, {**FAILED, **FAILED_MESSAGES})):
        for reason in reasons:
            words = vocabulary(status, reason)
            assert words.terminal and words.bot_status in TERMINAL and words.event == "bot.stopped"
            assert words.message and not words.message.startswith("Failed: Failed")
            kinds[words.bot_event] = words.status_code
    assert kinds == {"bot.stopped": 200, "bot.kicked": 200, "bot.notallowed": 500, "bot.denied": 500,
                     "bot.failed": 500}
    for status in LIFECYCLE:
        words = vocabulary(status, None)
        assert not words.terminal and words.event == words.bot_event and words.status_code == 200


def test_an_unknown_reason_still_reads_as_a_terminal_status():
    assert vocabulary("failed", "something_new").bot_status == "Error"
    assert vocabulary("ended", "something_new").bot_status == "Stopped"
