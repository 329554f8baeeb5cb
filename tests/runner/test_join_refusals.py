"""The join refusals are one enum: each code says what it means and whether another attempt is
worth it, and the sets the runner and the adapters read are built from it."""

from __future__ import annotations

from obfbroker.runner.adapters.base import (
    JOIN_REFUSAL_CODES,
    RETRYABLE_CODES,
    USER_ABSENT,
    JoinRefusal,
    read_refusal,
)


def test_every_refusal_is_described_and_the_sets_come_from_the_enum():
    assert all(refusal.description and refusal.description[0].isupper() for refusal in JoinRefusal)
    assert {refusal.value for refusal in JoinRefusal} == JOIN_REFUSAL_CODES
    assert {"authorized_user_not_in_meeting", "network_error"} == RETRYABLE_CODES
    assert USER_ABSENT == "authorized_user_not_in_meeting" and USER_ABSENT.retryable


def test_meeting_ended_right_after_the_user_was_absent_reads_as_still_absent():
    assert read_refusal(JoinRefusal.MEETING_ENDED, previous=USER_ABSENT) is USER_ABSENT
    assert read_refusal("meeting_ended", previous=None) == JoinRefusal.MEETING_ENDED
    assert read_refusal(JoinRefusal.WRONG_PASSCODE, previous=USER_ABSENT) == "wrong_passcode"
