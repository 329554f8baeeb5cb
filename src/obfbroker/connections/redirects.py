"""The rules for redirect URIs and the Zoom authorize URL built from them."""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit

from obfbroker.errors import BadRequest

MAX_URI_LENGTH = 2048
MAX_STATE_LENGTH = 2048
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
EXAMPLE = "https://yourapp.example.com/zoom/oauth/callback"


def _invalid(why: str) -> BadRequest:
    return BadRequest(f"redirect_uri {why}", code="invalid_redirect_uri")


def validate_redirect_uri(value: str | None) -> str:
    """Return the URI untouched if Zoom could accept it, else a 400 saying why."""
    if value is None or value == "":
        raise _invalid(f"is required: the URL of your OAuth callback, e.g. {EXAMPLE}")
    if len(value) > MAX_URI_LENGTH:
        raise _invalid(f"must be at most {MAX_URI_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise _invalid("must not contain spaces or control characters")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise _invalid(f"is not a valid URL; use an absolute URL such as {EXAMPLE}") from None
    if not parts.scheme or not parts.netloc or not host:
        raise _invalid(f"must be an absolute URL with a host, such as {EXAMPLE}")
    if "#" in value:
        raise _invalid("must not contain a fragment (#...)")
    if parts.username is not None or parts.password is not None:
        raise _invalid("must not contain user information (user@host)")
    if parts.scheme == "https":
        return value
    if parts.scheme == "http":
        if host in LOOPBACK_HOSTS:
            return value
        raise _invalid("must use https (plain http is allowed only for localhost and 127.0.0.1)")
    raise _invalid(f"must use https, not {parts.scheme}")


def validate_state(value: str | None) -> str | None:
    if value is not None and len(value) > MAX_STATE_LENGTH:
        raise BadRequest(f"state must be at most {MAX_STATE_LENGTH} characters",
                         code="invalid_state")
    return value


def build_authorize_url(oauth_url: str, *, client_id: str, redirect_uri: str,
                        state: str | None) -> str:
    """Zoom's authorize URL; every parameter fully percent-encoded so it round-trips intact."""
    params = [("response_type", "code"), ("client_id", client_id), ("redirect_uri", redirect_uri)]
    if state is not None:
        params.append(("state", state))
    return f"{oauth_url}/oauth/authorize?{urlencode(params, quote_via=quote, safe='')}"
