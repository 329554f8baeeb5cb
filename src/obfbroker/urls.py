"""The rules every URL a customer gives us is held to: redirect URIs, webhook endpoints and the
URLs of a bot (token servers, callback, image).

Each place enforces its own selection of the rules, in its own order, with its own documented
wording: it names them in a mapping from ``Rule`` to message and ``first_broken`` returns the
first one the URL breaks. The parsing, the limits and the loopback exception for local
development (plain ``http`` only to this machine) are defined once, here.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum, auto
from urllib.parse import SplitResult, urlsplit

import httpx

MAX_LENGTH = 2048
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class Rule(Enum):
    """One thing a URL must not be. Rules after ``UNPARSEABLE`` need a parseable URL."""

    EMPTY = auto()
    TOO_LONG = auto()  # more than MAX_LENGTH characters
    WHITESPACE = auto()
    CONTROL_CHARACTER = auto()
    UNPARSEABLE = auto()
    BAD_PORT = auto()
    NOT_ABSOLUTE = auto()  # no scheme or no host
    FRAGMENT = auto()
    CREDENTIALS = auto()  # user or user:password before the host
    PLAIN_HTTP = auto()  # http to a host other than this machine
    OTHER_SCHEME = auto()  # neither https nor http


def _text_breaks(value: str) -> set[Rule]:
    broken = set()
    if not value:
        broken.add(Rule.EMPTY)
    if len(value) > MAX_LENGTH:
        broken.add(Rule.TOO_LONG)
    if any(ch.isspace() for ch in value):
        broken.add(Rule.WHITESPACE)
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        broken.add(Rule.CONTROL_CHARACTER)
    if "#" in value:
        broken.add(Rule.FRAGMENT)
    return broken


def _parsed_breaks(parts: SplitResult) -> set[Rule]:
    broken = set()
    try:
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number in range
    except ValueError:
        broken.add(Rule.BAD_PORT)
    host = parts.hostname
    if not parts.scheme or not parts.netloc or not host:
        broken.add(Rule.NOT_ABSOLUTE)
    if parts.username is not None or parts.password is not None:
        broken.add(Rule.CREDENTIALS)
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        broken.add(Rule.PLAIN_HTTP)
    if parts.scheme not in ("https", "http"):
        broken.add(Rule.OTHER_SCHEME)
    return broken


def broken_rules(value: str) -> set[Rule]:
    """Every rule ``value`` breaks (an unparseable URL is not checked further)."""
    broken = _text_breaks(value)
    try:
        parts = urlsplit(value)
        if not broken:
            # What we send to must be a URL our HTTP client can send to: httpx refuses a host it
            # cannot IDNA-encode (private-use characters, say) only when it is too late.
            httpx.URL(value)
    except (ValueError, httpx.InvalidURL):
        return broken | {Rule.UNPARSEABLE}
    return broken | _parsed_breaks(parts)


def first_broken(value: str, rules: Iterable[Rule]) -> Rule | None:
    """The first of ``rules``, in their order, that ``value`` breaks; None when it keeps them all."""
    broken = broken_rules(value)
    return next((rule for rule in rules if rule in broken), None)
