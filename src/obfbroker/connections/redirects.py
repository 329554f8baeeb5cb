"""The rules for redirect URIs and the Zoom authorize URL built from them."""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit

from obfbroker.errors import BadRequest
from obfbroker.urls import MAX_LENGTH, Rule, first_broken

MAX_STATE_LENGTH = 2048
EXAMPLE = "https://yourapp.example.com/zoom/oauth/callback"
# The rules a redirect URI is held to, in the order they are reported.
RULES = {
    Rule.EMPTY: f"is required: the URL of your OAuth callback, e.g. {EXAMPLE}",
    Rule.TOO_LONG: f"must be at most {MAX_LENGTH} characters",
    Rule.WHITESPACE: "must not contain spaces or control characters",
    Rule.CONTROL_CHARACTER: "must not contain spaces or control characters",
    Rule.UNPARSEABLE: f"is not a valid URL; use an absolute URL such as {EXAMPLE}",
    Rule.NOT_ABSOLUTE: f"must be an absolute URL with a host, such as {EXAMPLE}",
    Rule.FRAGMENT: "must not contain a fragment (#...)",
    Rule.CREDENTIALS: "must not contain user information (user@host)",
    Rule.PLAIN_HTTP: "must use https (plain http is allowed only for localhost and 127.0.0.1)",
    Rule.OTHER_SCHEME: "must use https, not {scheme}",
}


def validate_redirect_uri(value: str | None) -> str:
    """Return the URI untouched if Zoom could accept it, else a 400 saying why."""
    value = value or ""
    broken = first_broken(value, RULES)
    if broken is None:
        return value
    why = RULES[broken]
    if broken is Rule.OTHER_SCHEME:
        why = why.format(scheme=urlsplit(value).scheme)
    raise BadRequest(f"redirect_uri {why}", code="invalid_redirect_uri")


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
