"""The shared URL rules: each caller picks its rules and their order; the first broken one wins."""

from __future__ import annotations

import pytest

from obfbroker.urls import MAX_LENGTH, Rule, broken_rules, first_broken


@pytest.mark.parametrize(("url", "broken"), [
    ("https://hooks.example.com/a?b=1#c", {Rule.FRAGMENT}),
    ("http://localhost:5005/cb", set()),
    ("http://[::1]/cb", set()),
    ("http://hooks.example.com/", {Rule.PLAIN_HTTP}),
    ("ftp://user:pw@hooks.example.com/", {Rule.OTHER_SCHEME, Rule.CREDENTIALS}),
    ("hooks.example.com/obf", {Rule.NOT_ABSOLUTE, Rule.OTHER_SCHEME}),
    ("https://hooks.example.com:99999/", {Rule.BAD_PORT}),
    ("https://hooks.example.com/a b", {Rule.WHITESPACE}),
    ("https://hooks.example.com/a\x00b", {Rule.CONTROL_CHARACTER}),
    ("https://[::1/", {Rule.UNPARSEABLE}),
    # A host httpx cannot IDNA-encode would only fail when we send to it: refused up front.
    ("https://hooks\ue000.example.com/", {Rule.UNPARSEABLE}),
    ("https://bücher.example/hook", set()),
    ("", {Rule.EMPTY, Rule.NOT_ABSOLUTE, Rule.OTHER_SCHEME}),
])
def test_every_broken_rule_is_found(url: str, broken: set[Rule]) -> None:
    assert broken_rules(url) == broken


def test_the_callers_order_decides_which_rule_is_reported() -> None:
    url = "http://user@hooks.example.com/"
    assert first_broken(url, [Rule.CREDENTIALS, Rule.PLAIN_HTTP]) is Rule.CREDENTIALS
    assert first_broken(url, [Rule.PLAIN_HTTP, Rule.CREDENTIALS]) is Rule.PLAIN_HTTP
    assert first_broken(url, [Rule.FRAGMENT]) is None  # a rule the caller does not enforce
    assert first_broken("https://a.example/" + "x" * MAX_LENGTH, list(Rule)) is Rule.TOO_LONG
