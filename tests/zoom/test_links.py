"""Zoom meeting links: every accepted form parses, look-alikes and malformed links are refused."""

from __future__ import annotations

import pytest

from obfbroker.zoom.links import NotAZoomLink, ZoomMeetingLink, is_zoom_host, parse_zoom_link

N = "85746065432"  # an 11-digit meeting number

# (link, host, kind, meeting_number, passcode, vanity_name)
VALID = [
    (f"https://zoom.us/j/{N}", "zoom.us", "meeting", N, None, None),
    (f"https://zoom.us/j/{N}?pwd=abc123", "zoom.us", "meeting", N, "abc123", None),
    (f"https://zoom.us/j/{N}/?pwd=abc123", "zoom.us", "meeting", N, "abc123", None),
    (f"https://us02web.zoom.us/j/{N}?pwd=Zk9xT1dHb0E4.1", "us02web.zoom.us", "meeting", N,
     "Zk9xT1dHb0E4.1", None),
    (f"https://acme.zoom.us/j/{N}?pwd=abc.1", "acme.zoom.us", "meeting", N, "abc.1", None),
    (f"https://www.zoom.com/j/{N}", "www.zoom.com", "meeting", N, None, None),
    (f"https://zoom.com/j/{N}", "zoom.com", "meeting", N, None, None),
    (f"https://zoomgov.com/j/{N}?pwd=x", "zoomgov.com", "meeting", N, "x", None),
    (f"https://agency.zoomgov.com/j/{N}", "agency.zoomgov.com", "meeting", N, None, None),
    (f"https://US02WEB.Zoom.US/j/{N}", "us02web.zoom.us", "meeting", N, None, None),
    (f"HTTPS://ZOOM.US/j/{N}", "zoom.us", "meeting", N, None, None),
    (f"https://zoom.us./j/{N}", "zoom.us", "meeting", N, None, None),
    (f"http://zoom.us/j/{N}", "zoom.us", "meeting", N, None, None),
    (f"https://zoom.us:443/j/{N}", "zoom.us", "meeting", N, None, None),
    (f"http://zoom.us:80/j/{N}", "zoom.us", "meeting", N, None, None),
    (f"https://xn--caf-dma.zoom.us/j/{N}", "xn--caf-dma.zoom.us", "meeting", N, None, None),
    # number lengths at the edges
    ("https://zoom.us/j/123456789", "zoom.us", "meeting", "123456789", None, None),
    ("https://zoom.us/j/1234567890", "zoom.us", "meeting", "1234567890", None, None),
    ("https://zoom.us/j/123456789012", "zoom.us", "meeting", "123456789012", None, None),
    # other path forms
    (f"https://zoom.us/w/{N}?pwd=web", "zoom.us", "webinar", N, "web", None),
    (f"https://zoom.us/w/{N}/", "zoom.us", "webinar", N, None, None),
    (f"https://zoom.us/s/{N}", "zoom.us", "meeting", N, None, None),
    (f"https://zoom.us/s/{N}/?pwd=p", "zoom.us", "meeting", N, "p", None),
    (f"https://zoom.us/wc/join/{N}", "zoom.us", "meeting", N, None, None),
    (f"https://zoom.us/wc/join/{N}/?pwd=p", "zoom.us", "meeting", N, "p", None),
    (f"https://app.zoom.us/wc/{N}/join", "app.zoom.us", "meeting", N, None, None),
    (f"https://app.zoom.us/wc/{N}/join/?pwd=p", "app.zoom.us", "meeting", N, "p", None),
    ("https://zoom.us/my/jane.doe", "zoom.us", "personal", None, None, "jane.doe"),
    ("https://acme.zoom.us/my/Jane_Doe-2/?pwd=s3cret", "acme.zoom.us", "personal", None, "s3cret",
     "Jane_Doe-2"),
    ("https://zoom.us/my/" + "a" * 64, "zoom.us", "personal", None, None, "a" * 64),
    # query handling
    (f"https://zoom.us/j/{N}?pwd=a%2Fb%3Dc%26d%25", "zoom.us", "meeting", N, "a/b=c&d%", None),
    (f"https://zoom.us/j/{N}?pwd=%C3%A9t%C3%A9", "zoom.us", "meeting", N, "\u00e9t\u00e9", None),
    (f"https://zoom.us/j/{N}?pwd=a+b", "zoom.us", "meeting", N, "a+b", None),
    (f"https://zoom.us/j/{N}?uname=Bob&pwd=abc.1&omn=123", "zoom.us", "meeting", N, "abc.1", None),
    (f"https://zoom.us/j/{N}?omn=123&uname=x", "zoom.us", "meeting", N, None, None),
    (f"https://zoom.us/j/{N}?pwd=", "zoom.us", "meeting", N, None, None),
    (f"https://zoom.us/j/{N}?pwd", "zoom.us", "meeting", N, None, None),
    (f"https://zoom.us/j/{N}?pwd=abc&pwd=abc", "zoom.us", "meeting", N, "abc", None),
    (f"https://zoom.us/j/{N}?PWD=abc", "zoom.us", "meeting", N, None, None),
    (f"https://zoom.us/j/{N}?pwd=abc#success", "zoom.us", "meeting", N, "abc", None),
]


@pytest.mark.parametrize(("url", "host", "kind", "number", "passcode", "vanity"), VALID)
def test_valid_links_parse(url: str, host: str, kind: str, number: str | None,
                           passcode: str | None, vanity: str | None) -> None:
    link = parse_zoom_link(url)
    assert link == ZoomMeetingLink(url=url, host=host, kind=kind, meeting_number=number,
                                   passcode=passcode, vanity_name=vanity)


# (link, words the reason must contain)
INVALID = [
    # look-alike and foreign hosts
    (f"https://zoom.us.evil.com/j/{N}", "host zoom.us.evil.com is not a Zoom host"),
    (f"https://evilzoom.us/j/{N}", "host evilzoom.us is not a Zoom host"),
    (f"https://zoom.us-evil.com/j/{N}", "is not a Zoom host"),
    (f"https://zoom.usa/j/{N}", "is not a Zoom host"),
    (f"https://zoom.co/j/{N}", "is not a Zoom host"),
    (f"https://zoomgov.com.evil.com/j/{N}", "is not a Zoom host"),
    (f"https://xn--zoom-abc.us/j/{N}", "is not a Zoom host"),
    (f"https://evil.com/j/{N}", "host evil.com is not a Zoom host"),
    (f"https://us/j/{N}", "is not a Zoom host"),
    (f"https://z\u043eom.us/j/{N}", "not a valid host name"),  # Cyrillic o
    (f"https://zoom%2eus/j/{N}", "not a valid host name"),
    (f"https://zoom.us../j/{N}", "not a valid host name"),
    (f"https://evil.com\\.zoom.us/j/{N}", "backslash"),
    (f"https://evil_host.zoom.us/j/{N}", "not a valid host name"),
    (f"https://-evil.zoom.us/j/{N}", "not a valid host name"),
    # userinfo, ports, IP literals
    (f"https://user@zoom.us/j/{N}", "user name"),
    (f"https://zoom.us@evil.com/j/{N}", "user name"),
    (f"https://zoom.us:443@evil.com/j/{N}", "user name"),
    (f"https://:pw@zoom.us/j/{N}", "user name"),
    (f"https://zoom.us:8443/j/{N}", "port 8443 is not allowed"),
    (f"https://zoom.us:80/j/{N}", "port 80 is not allowed"),
    (f"http://zoom.us:443/j/{N}", "port 443 is not allowed"),
    (f"https://zoom.us:abc/j/{N}", "is not a number"),
    (f"https://zoom.us:/j/{N}", "port is empty"),
    (f"https://127.0.0.1/j/{N}", "IP address"),
    (f"https://170.114.52.2/j/{N}", "IP address"),
    (f"https://127.1/j/{N}", "IP address"),
    (f"https://[::1]/j/{N}", "IP address"),
    (f"https://[2001:db8::1]:443/j/{N}", "IP address"),
    (f"https://:443/j/{N}", "no host"),
    # schemes
    (f"ftp://zoom.us/j/{N}", "scheme ftp is not allowed"),
    ("javascript:alert(1)", "scheme javascript is not allowed"),
    (f"javascript://zoom.us/j/{N}", "scheme javascript is not allowed"),
    (f"zoommtg://zoom.us/join?confno={N}", "scheme zoommtg is not allowed"),
    (f"zoom.us/j/{N}", "no scheme"),
    (f"//zoom.us/j/{N}", "no scheme"),
    (f"https:zoom.us/j/{N}", "no host"),
    (f"https:/zoom.us/j/{N}", "no host"),
    (f"https:///j/{N}", "no host"),
    # paths and numbers
    ("https://zoom.us", "no meeting path"),
    ("https://zoom.us/", "no meeting path"),
    ("https://zoom.us/j/", "has no meeting number"),
    ("https://zoom.us/j", "path /j is not a Zoom meeting path"),
    ("https://zoom.us/j/12345678", "has 8 digits"),
    ("https://zoom.us/j/1234567890123", "has 13 digits"),
    ("https://zoom.us/j/12345abcd", "not all digits"),
    ("https://zoom.us/j/abcdefghij", "not all digits"),
    ("https://zoom.us/j/\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669", "not all digits"),
    (f"https://zoom.us/j/%3{N}", "not all digits"),
    ("https://zoom.us/w/1234", "has 4 digits"),
    ("https://zoom.us/wc/join/12", "has 2 digits"),
    ("https://zoom.us/wc/12/join", "has 2 digits"),
    (f"https://zoom.us/j/{N}//", "is not a Zoom meeting path"),
    (f"https://zoom.us//j/{N}", "is not a Zoom meeting path"),
    (f"https://zoom.us/J/{N}", "is not a Zoom meeting path"),
    (f"https://zoom.us/x/{N}", "path /x/85746065432 is not a Zoom meeting path"),
    ("https://zoom.us/x", "path /x is not a Zoom meeting path"),
    (f"https://zoom.us/j/{N}/extra", "is not a Zoom meeting path"),
    (f"https://zoom.us/j/{N};x", "not all digits"),
    (f"https://zoom.us/wc/{N}/start", "is not a Zoom meeting path"),
    (f"https://zoom.us/wc/join/{N}/start", "is not a Zoom meeting path"),
    (f"https://zoom.us/wc/{N}/join/start", "is not a Zoom meeting path"),
    (f"https://zoom.us/signin?next=/j/{N}", "is not a Zoom meeting path"),
    ("https://zoom.us/my/", "not a valid personal link"),
    ("https://zoom.us/my/jane%20doe", "not a valid personal link"),
    ("https://zoom.us/my/jane+doe", "not a valid personal link"),
    ("https://zoom.us/my/j\u00e4ne", "not a valid personal link"),
    ("https://zoom.us/my/jane/doe", "not a valid personal link"),
    ("https://zoom.us/my/" + "a" * 65, "not a valid personal link"),
    ("https://zoom.us/my/..", "personal link name '..' is not valid"),
    # whitespace, control characters, length
    ("", "empty"),
    (" ", "whitespace"),
    (f" https://zoom.us/j/{N}", "whitespace"),
    (f"https://zoom.us/j/{N} ", "whitespace"),
    (f"https://zoom.us/j/{N}\n", "whitespace"),
    (f"https://zoom.us/j/{N}\t?pwd=x", "whitespace"),
    (f"https://zoom.us/j/{N}?pwd=a b", "whitespace"),
    (f"https://zoom.us/j/\x00{N}", "control characters"),
    (f"https://zoom.us\u200b/j/{N}", "control characters"),
    (f"https://zoom.us/j/{N}?pwd=\u202eabc", "control characters"),
    (f"https://zoom.us/j/{N}?pwd=" + "a" * 2048, "the limit is 2048"),
    # query problems
    (f"https://zoom.us/j/{N}?pwd=a%00b", "pwd value contains"),
    (f"https://zoom.us/j/{N}?pwd=a%0Ab", "pwd value contains"),
    (f"https://zoom.us/j/{N}?pwd=a%20b", "pwd value contains"),
    (f"https://zoom.us/j/{N}?pwd=%FF", "not valid percent-encoded UTF-8"),
    (f"https://zoom.us/j/{N}?pwd=a&pwd=b", "several different pwd values"),
]


@pytest.mark.parametrize(("url", "words"), INVALID)
def test_invalid_links_are_refused_with_a_reason(url: str, words: str) -> None:
    with pytest.raises(NotAZoomLink) as caught:
        parse_zoom_link(url)
    message = str(caught.value)
    assert message.startswith("not a Zoom meeting link: ")
    assert caught.value.reason
    assert words in message


def test_not_a_zoom_link_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="is not a Zoom host"):
        parse_zoom_link(f"https://evil.com/j/{N}")


@pytest.mark.parametrize("value", [None, b"https://zoom.us/j/123456789", 123456789])
def test_non_text_is_refused(value: object) -> None:
    with pytest.raises(NotAZoomLink, match="expected the link as text"):
        parse_zoom_link(value)  # type: ignore[arg-type]


def test_link_of_exactly_the_limit_is_accepted() -> None:
    base = f"https://zoom.us/j/{N}?pwd="
    url = base + "a" * (2048 - len(base))
    assert len(url) == 2048
    assert parse_zoom_link(url).passcode == "a" * (2048 - len(base))


def test_errors_do_not_repeat_the_passcode() -> None:
    bad = [
        f"https://evil.com/j/{N}?pwd=SECRETPW",
        f"https://zoom.us:8443/j/{N}?pwd=SECRETPW",
        f"https://zoom.us/x/{N}?pwd=SECRETPW",
        "https://zoom.us/j/123?pwd=SECRETPW",
        f"https://zoom.us/j/{N}?pwd=SECRETPW&pwd=OTHER",
    ]
    for url in bad:
        with pytest.raises(NotAZoomLink) as caught:
            parse_zoom_link(url)
        assert "SECRETPW" not in str(caught.value)


def test_repr_hides_the_passcode_but_equality_still_uses_it() -> None:
    link = parse_zoom_link(f"https://zoom.us/j/{N}?pwd=SECRETPW")
    assert "SECRETPW" not in repr(link)
    assert N in repr(link)
    assert link != parse_zoom_link(f"https://zoom.us/j/{N}?pwd=OTHER")


def test_long_hosts_are_shortened_in_messages() -> None:
    host = ".".join(["a" * 60] * 4) + ".com"
    with pytest.raises(NotAZoomLink) as caught:
        parse_zoom_link(f"https://{host}/j/{N}")
    assert host not in str(caught.value)
    assert "..." in str(caught.value)


def test_link_is_frozen() -> None:
    link = parse_zoom_link(f"https://zoom.us/j/{N}")
    with pytest.raises(AttributeError):
        link.meeting_number = "1"  # type: ignore[misc]


@pytest.mark.parametrize("host", [
    "zoom.us", "zoom.com", "zoomgov.com", "us02web.zoom.us", "acme.zoom.us", "www.zoom.com",
    "a.b.zoomgov.com", "ZOOM.US", "Acme.Zoom.Us", "zoom.us.", "xn--caf-dma.zoom.us",
])
def test_is_zoom_host_accepts(host: str) -> None:
    assert is_zoom_host(host)


@pytest.mark.parametrize("host", [
    "", ".", "zoom.us.evil.com", "evilzoom.us", "zoom.us-evil.com", "zoom.usa", "zoomus",
    "evil.com", "us", "com", ".zoom.us", "zoom.us..", "a..zoom.us", "zoom.us:443", "user@zoom.us",
    "127.0.0.1", "::1", "[::1]", "evil.com\\.zoom.us", "evil.com/.zoom.us", " zoom.us", "zoom.us\n",
    "z\u043eom.us", "xn--zoom-abc.us", "zoom.com.evil.com", "zoomgov.com.au",
])
def test_is_zoom_host_rejects(host: str) -> None:
    assert not is_zoom_host(host)


@pytest.mark.parametrize("value", [None, 1, b"zoom.us"])
def test_is_zoom_host_rejects_non_text(value: object) -> None:
    assert not is_zoom_host(value)  # type: ignore[arg-type]
