"""A domain value with facts (``obfbroker.enums.FactEnum``) cannot be written without them."""

from __future__ import annotations

import pytest

from obfbroker.enums import FactEnum


def test_a_member_carries_its_facts_and_one_missing_a_fact_does_not_construct():
    class Kind(FactEnum):
        description: str
        transient: bool

        SLOW = ("slow", "Zoom took too long", True)

    assert (Kind.SLOW, Kind.SLOW.description, Kind.SLOW.transient) == ("slow", "Zoom took too long", True)
    assert Kind("slow") is Kind.SLOW
    with pytest.raises(TypeError, match="description, transient"):
        class Broken(FactEnum):
            description: str
            transient: bool

            HALF = ("half", "no transient given")
