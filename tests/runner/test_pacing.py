"""The join schedule is a pure function: doubling from the first wait with ±10% jitter, then
uniform in the steady range; its worst case bounds the tokens of a 20-minute wait."""

from __future__ import annotations

import random

import pytest

from obfbroker.runner.adapters.base import read_refusal
from obfbroker.runner.pacing import Pacing


def test_the_default_schedule_doubles_then_settles_between_40_and_60_seconds():
    pacing = Pacing()
    assert [pacing.delay(n, lambda: 0.5) for n in range(1, 7)] == [3.0, 6.0, 12.0, 24.0, 50.0, 50.0]
    assert [pacing.delay(n, lambda: 0.0) for n in range(1, 6)] == pytest.approx([2.7, 5.4, 10.8, 21.6, 40.0])
    assert pacing.delay(5, lambda: 0.999999) == pytest.approx(60.0, abs=1e-3)
    assert pacing.delay(10_000, lambda: 0.0) == 40.0, "no overflow however long the wait"


def test_jitter_stays_within_ten_percent_before_the_steady_range():
    pacing, draws = Pacing(), random.Random(7)
    for n, base in enumerate([3.0, 6.0, 12.0, 24.0], start=1):
        for _ in range(200):
            assert base * 0.9 <= pacing.delay(n, draws.random) <= base * 1.1
    assert all(40.0 <= pacing.delay(n, draws.random) <= 60.0 for n in range(5, 300))


def test_a_twenty_minute_wait_fits_under_the_default_token_cap():
    assert Pacing().worst_case_attempts(1200) == 33 < 35
    assert Pacing().worst_case_attempts(0) == 1
    assert Pacing(initial=1, steady_min=1, steady_max=1).worst_case_attempts(10) == 11


@pytest.mark.parametrize("bad", [dict(initial=0), dict(initial=50), dict(steady_min=70)])
def test_a_schedule_that_cannot_work_is_refused(bad):
    with pytest.raises(ValueError):
        Pacing(**bad)
    with pytest.raises(ValueError):
        Pacing().delay(0)


def test_a_meeting_ended_right_after_a_refused_obf_join_means_the_user_is_still_away():
    assert read_refusal("meeting_ended", previous="authorized_user_not_in_meeting") == \
        "authorized_user_not_in_meeting"
    assert read_refusal("meeting_ended", previous=None) == "meeting_ended"
    assert read_refusal("meeting_ended", previous="network_error") == "meeting_ended"
    assert read_refusal("wrong_passcode", previous="authorized_user_not_in_meeting") == "wrong_passcode"
