"""Parse Zoom meeting links (spec ``zoom-platform.md`` section 6) without trusting look-alikes.

Accepted: ``http``/``https`` links on ``zoom.us``, ``zoom.com``, ``zoomgov.com`` or a subdomain of
them, on the scheme's default port, whose path is one of::

    /j/<number>            meeting
    /s/<number>            meeting (host start link)
    /w/<number>            webinar
    /wc/join/<number>      meeting (web client)
    /wc/<number>/join      meeting (web client)
    /my/<vanity>           personal link, no number

each with an optional trailing slash; ``<number>`` is 9 to 12 ASCII digits and ``<vanity>`` is
1 to 64 of ``[A-Za-z0-9._-]``. The passcode is the percent-decoded ``pwd`` query value (``+`` is
kept literally); other query parameters and the fragment are ignored.

Anything else raises :class:`NotAZoomLink`, whose message says what is wrong. Messages never
repeat the query string, so a passcode does not end up in logs through an error.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import SplitResult, unquote, urlsplit

__all__ = ["MAX_LINK_LENGTH", "ZOOM_BASE_DOMAINS", "NotAZoomLink", "ZoomMeetingLink", "is_zoom_host",
           "parse_zoom_link"]

#: Links longer than this are rejected before any parsing.
MAX_LINK_LENGTH = 2048

#: Registrable domains Zoom serves meetings from; the host must be one of these or a subdomain.
ZOOM_BASE_DOMAINS: tuple[str, ...] = ("zoom.us", "zoom.com", "zoomgov.com")

_DEFAULT_PORTS = {"https": 443, "http": 80}

_NUMBER = r"(?P<number>[0-9]{9,12})"
_PATHS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"/j/{_NUMBER}/?"), "meeting"),
    (re.compile(rf"/s/{_NUMBER}/?"), "meeting"),
    (re.compile(rf"/w/{_NUMBER}/?"), "webinar"),
    (re.compile(rf"/wc/join/{_NUMBER}/?"), "meeting"),
    (re.compile(rf"/wc/{_NUMBER}/join/?"), "meeting"),
    (re.compile(r"/my/(?P<vanity>[A-Za-z0-9._-]{1,64})/?"), "personal"),
)
# Same shapes with any run of characters in place of the number, to explain a bad number.
_NUMBER_SLOTS: tuple[re.Pattern[str], ...] = (
    re.compile(r"/[jsw]/(?P<number>[^/]*)/?"),
    re.compile(r"/wc/join/(?P<number>[^/]*)/?"),
    re.compile(r"/wc/(?P<number>[^/]*)/join/?"),
)
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_DIGITS = re.compile(r"[0-9]+")


class NotAZoomLink(ValueError):
    """The text is not a Zoom meeting link; ``reason`` says why in plain words."""

    def __init__(self, reason: str):
        self.reason = reason or "the link could not be understood"
        super().__init__(f"not a Zoom meeting link: {self.reason}")


@dataclass(frozen=True)
class ZoomMeetingLink:
    """A Zoom meeting link that passed :func:`parse_zoom_link`.

    ``url`` and ``passcode`` are left out of ``repr`` because the link carries the passcode.
    """

    url: str = field(repr=False)
    host: str
    kind: str
    meeting_number: str | None
    passcode: str | None = field(repr=False)
    vanity_name: str | None


def _show(text: str, limit: int = 80) -> str:
    """Text for an error message: already free of control characters, cut to ``limit``."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _has_bad_char(text: str) -> bool:
    """True for whitespace or any control/format/unassigned character (e.g. U+200B, U+202E)."""
    return any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in text)


def _normalise_host(host: str) -> str:
    host = host.lower()
    return host[:-1] if host.endswith(".") else host


def _is_ip_literal(host: str) -> bool:
    if host.startswith("["):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        # Dotted forms the stdlib refuses but resolvers accept (``127.1``) end in a numeric label.
        return bool(_DIGITS.fullmatch(host.rsplit(".", 1)[-1]))
    return True


def _host_problem(host: str) -> str | None:
    """Why the normalised ``host`` is not a Zoom host, or None when it is one."""
    if not host:
        return "the link has no host"
    if _is_ip_literal(host):
        return f"host {_show(host)} is an IP address, not a Zoom host"
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return f"host {_show(host)} is not a valid host name"
    if not any(host == base or host.endswith("." + base) for base in ZOOM_BASE_DOMAINS):
        return f"host {_show(host)} is not a Zoom host"
    return None


def is_zoom_host(host: str) -> bool:
    """True when ``host`` (a bare host name, no port) is a Zoom domain or a subdomain of one.

    Case-insensitive and tolerant of one trailing dot; look-alikes such as ``zoom.us.evil.com``,
    ``evilzoom.us`` or ``zoom.us-evil.com`` and anything that is not a plain host name are False.
    """
    if not isinstance(host, str) or _has_bad_char(host):
        return False
    return _host_problem(_normalise_host(host)) is None


def _split(url: str) -> SplitResult:
    if not isinstance(url, str):
        raise NotAZoomLink(f"expected the link as text, got {type(url).__name__}")
    if not url:
        raise NotAZoomLink("the link is empty")
    if len(url) > MAX_LINK_LENGTH:
        raise NotAZoomLink(f"the link is {len(url)} characters long; the limit is {MAX_LINK_LENGTH}")
    if _has_bad_char(url):
        raise NotAZoomLink("the link contains whitespace or control characters")
    if "\\" in url:
        # Browsers read a backslash as "/" in http(s) links, which would move the real host.
        raise NotAZoomLink("the link contains a backslash")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise NotAZoomLink(f"the link cannot be parsed as a URL ({exc})") from None
    if not parts.scheme:
        raise NotAZoomLink("the link has no scheme; it must start with https://")
    if parts.scheme not in _DEFAULT_PORTS:
        raise NotAZoomLink(f"scheme {_show(parts.scheme)} is not allowed; only https and http are")
    if not url[len(parts.scheme) + 1 :].startswith("//") or not parts.netloc:
        raise NotAZoomLink("the link has no host")
    return parts


def _host_of(parts: SplitResult) -> str:
    netloc = parts.netloc
    if "@" in netloc:
        raise NotAZoomLink("the link contains a user name or password before the host (user@)")
    if netloc.startswith("["):
        raise NotAZoomLink("the host is an IP address, not a Zoom host")
    host, colon, port = netloc.rpartition(":") if ":" in netloc else (netloc, "", "")
    if colon:
        default = _DEFAULT_PORTS[parts.scheme]
        if not _DIGITS.fullmatch(port):
            raise NotAZoomLink(f"port {_show(port)!r} is not a number" if port else "the port is empty")
        if int(port) != default:
            raise NotAZoomLink(f"port {int(port)} is not allowed; only the default {parts.scheme} "
                               f"port {default} is")
    host = _normalise_host(host)
    problem = _host_problem(host)
    if problem:
        raise NotAZoomLink(problem)
    return host


def _match_path(path: str) -> tuple[str, str | None, str | None]:
    for pattern, kind in _PATHS:
        found = pattern.fullmatch(path)
        if found:
            groups = found.groupdict()
            vanity = groups.get("vanity")
            if vanity in {".", ".."}:
                raise NotAZoomLink(f"personal link name {vanity!r} is not valid")
            return kind, groups.get("number"), vanity
    if not path or path == "/":
        raise NotAZoomLink("the link has no meeting path (such as /j/<meeting number>)")
    for pattern in _NUMBER_SLOTS:
        found = pattern.fullmatch(path)
        if found:
            number = found["number"]
            if not number:
                raise NotAZoomLink(f"path {_show(path)} has no meeting number")
            if _DIGITS.fullmatch(number):
                raise NotAZoomLink(f"meeting number {_show(number)} has {len(number)} digits; "
                                   "Zoom meeting numbers have 9 to 12")
            raise NotAZoomLink(f"meeting number {_show(number)} is not all digits")
    if path.startswith("/my/"):
        raise NotAZoomLink(f"path {_show(path)} is not a valid personal link; the name must be "
                           "1 to 64 letters, digits, '.', '_' or '-'")
    raise NotAZoomLink(f"path {_show(path)} is not a Zoom meeting path")


def _passcode(query: str) -> str | None:
    values: list[str] = []
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if unquote(key, errors="replace") != "pwd":
            continue
        try:
            value = unquote(value, errors="strict")
        except UnicodeDecodeError:
            raise NotAZoomLink("the pwd value is not valid percent-encoded UTF-8") from None
        if _has_bad_char(value):
            raise NotAZoomLink("the pwd value contains whitespace or control characters")
        values.append(value)
    present = [value for value in values if value]
    if len(set(present)) > 1:
        raise NotAZoomLink("the link has several different pwd values")
    return present[0] if present else None


def parse_zoom_link(url: str) -> ZoomMeetingLink:
    """Parse ``url`` as a Zoom meeting link; raise :class:`NotAZoomLink` saying why it is not one."""
    parts = _split(url)
    host = _host_of(parts)
    kind, number, vanity = _match_path(parts.path)
    return ZoomMeetingLink(url=url, host=host, kind=kind, meeting_number=number,
                           passcode=_passcode(parts.query), vanity_name=vanity)
