"""The shared find-or-404 (``db.repository.found``): the row when there is one, else the domain's
own error (its message and code), raised as given."""

from __future__ import annotations

import pytest

from obfbroker.db.repository import found
from obfbroker.errors import NotFound


def test_a_row_is_answered_and_a_missing_one_raises_the_domains_error():
    row = object()
    assert found(row, NotFound("No such bot", code="bot_not_found")) is row
    with pytest.raises(NotFound) as raised:
        found(None, NotFound("No such bot", code="bot_not_found"))
    assert (raised.value.status_code, raised.value.code, raised.value.detail) == (404, "bot_not_found",
                                                                                  "No such bot")
    assert found(0, NotFound("zero is a value", code="x")) == 0  # only None is missing
