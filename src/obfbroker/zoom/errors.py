"""Typed failures of calls to Zoom, and the rules that turn Zoom's answers into them.

Every error carries ``status_code`` (HTTP status, ``None`` when no response arrived),
``zoom_code`` (Zoom's ``error`` string or numeric ``code``) and ``reason``, a human sentence that
never contains a code or token the client sent: Zoom echoes authorization codes back in its error
text, so text from Zoom is either replaced by fixed wording or checked against the sent secrets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from obfbroker.enums import FactEnum


class ZoomError(Exception):
    """Base of every failure reported by :class:`obfbroker.zoom.client.ZoomClient`."""

    #: True when the same call may succeed later (callers own the retry policy).
    retryable = False

    def __init__(self, reason: str, *, status_code: int | None = None,
                 zoom_code: str | int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code
        self.zoom_code = zoom_code

    def __str__(self) -> str:
        details = []
        if self.status_code is not None:
            details.append(f"HTTP {self.status_code}")
        if self.zoom_code is not None:
            details.append(f"zoom code {self.zoom_code}")
        return f"{self.reason} ({', '.join(details)})" if details else self.reason


class ZoomInvalidGrant(ZoomError):
    """The refresh token is stale, rotated or revoked: the user must authorize again."""


class ZoomInvalidRequest(ZoomError):
    """Zoom refused the token request itself, e.g. a reused or expired authorization code."""

    def __init__(self, reason: str, *, status_code: int | None = None,
                 zoom_code: str | int | None = None, redirect_mismatch: bool = False):
        super().__init__(reason, status_code=status_code, zoom_code=zoom_code)
        self.redirect_mismatch = redirect_mismatch


class ZoomUnsupportedGrant(ZoomInvalidRequest):
    """Zoom does not accept the grant type (a bug on our side, not the user's)."""


class ZoomInvalidClient(ZoomError):
    """The app's client id or secret is wrong: an app-level fault, never the user's."""


class ZoomRateLimited(ZoomError):
    """HTTP 429. ``retry_after`` is seconds from now, when Zoom said."""

    retryable = True

    def __init__(self, reason: str, *, status_code: int | None = 429,
                 zoom_code: str | int | None = None, retry_after: float | None = None,
                 category: str | None = None, limit_type: str | None = None,
                 limit: int | None = None, remaining: int | None = None):
        super().__init__(reason, status_code=status_code, zoom_code=zoom_code)
        self.retry_after = retry_after
        self.category = category
        self.limit_type = limit_type
        self.limit = limit
        self.remaining = remaining


class ZoomUnavailable(ZoomError):
    """Zoom could not be reached or answered something unusable (5xx, timeout, bad body)."""

    retryable = True

    def __init__(self, reason: str, *, status_code: int | None = None,
                 zoom_code: str | int | None = None, retry_after: float | None = None):
        super().__init__(reason, status_code=status_code, zoom_code=zoom_code)
        self.retry_after = retry_after


class ZoomInvalidAccessToken(ZoomError):
    """HTTP 401, code 124: the access token is invalid or (``expired``) past its lifetime."""

    def __init__(self, reason: str, *, status_code: int | None = 401,
                 zoom_code: str | int | None = 124, expired: bool = False):
        super().__init__(reason, status_code=status_code, zoom_code=zoom_code)
        self.expired = expired


class ZoomMissingScopes(ZoomError):
    """Code 4711: the access token lacks ``scopes`` (the user must authorize again)."""

    def __init__(self, reason: str, *, status_code: int | None = 400,
                 zoom_code: str | int | None = 4711, scopes: list[str] | None = None):
        super().__init__(reason, status_code=status_code, zoom_code=zoom_code)
        self.scopes = list(scopes or [])


class ZoomApiError(ZoomError):
    """Any other 4xx answer from Zoom."""


class ZoomUserNotFound(ZoomApiError):
    """HTTP 404, code 1001 ("User does not exist: <id>."): the Zoom user was deleted at Zoom,
    so no token of theirs will ever work again."""


class ZoomNotMeetingHost(ZoomApiError):
    """HTTP 400, code 3003 ("Not meeting host."): the grant's user does not host the meeting, so
    it cannot mint the meeting's local-recording join token."""


class ZoomErrorKind(FactEnum):
    """What a failed call to Zoom was: the one classification of a ``ZoomError`` (``classify``).
    The metrics label it, a connection's last error and the customer's answer are read from it."""

    # Each kind says what it means and whether the same call may succeed later (``transient``:
    # retried with backoff, never anyone's disconnection). A comment, not the docstring, which
    # describes the enum.
    description: str
    transient: bool

    NETWORK = ("network", "No answer from Zoom: the connection failed or timed out", True)
    SERVER_ERROR = ("server_error", "Zoom answered with a 5xx status", True)
    RATE_LIMITED = ("rate_limited", "Zoom answered 429: too many requests for now", True)
    BAD_RESPONSE = ("bad_response", "Zoom answered something that cannot be read", True)
    INVALID_GRANT = ("invalid_grant", "The refresh token is stale, rotated or revoked", False)
    INVALID_CLIENT = ("invalid_client", "The Zoom app's client id or secret is wrong", False)
    INVALID_ACCESS_TOKEN = ("invalid_access_token", "The access token is invalid or past its lifetime", False)
    MISSING_SCOPES = ("missing_scopes", "The grant lacks a scope the call needs", False)
    USER_NOT_FOUND = ("user_not_found", "The Zoom user no longer exists", False)
    NOT_MEETING_HOST = ("not_meeting_host", "The grant's user does not host the meeting", False)
    INVALID_REQUEST = (
        "invalid_request", "Zoom refused the request itself, e.g. a reused authorization code", False)
    REJECTED = ("rejected", "Any other refusal", False)


# The refusals by type, most specific first (a subclass before its base).
_REFUSALS: tuple[tuple[type[ZoomError], ZoomErrorKind], ...] = (
    (ZoomInvalidGrant, ZoomErrorKind.INVALID_GRANT), (ZoomInvalidClient, ZoomErrorKind.INVALID_CLIENT),
    (ZoomInvalidAccessToken, ZoomErrorKind.INVALID_ACCESS_TOKEN),
    (ZoomMissingScopes, ZoomErrorKind.MISSING_SCOPES), (ZoomUserNotFound, ZoomErrorKind.USER_NOT_FOUND),
    (ZoomNotMeetingHost, ZoomErrorKind.NOT_MEETING_HOST), (ZoomInvalidRequest, ZoomErrorKind.INVALID_REQUEST),
)


def classify(err: ZoomError) -> ZoomErrorKind:
    """The kind of a failed call to Zoom."""
    if isinstance(err, ZoomRateLimited):
        return ZoomErrorKind.RATE_LIMITED
    if isinstance(err, ZoomUnavailable):
        if err.status_code is None:
            return ZoomErrorKind.NETWORK
        return ZoomErrorKind.SERVER_ERROR if err.status_code >= 500 else ZoomErrorKind.BAD_RESPONSE
    for error_type, kind in _REFUSALS:
        if isinstance(err, error_type):
            return kind
    return ZoomErrorKind.REJECTED


# ---------------------------------------------------------------------------------------------
# Parsing helpers


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from ``now`` named by a Retry-After value: delta seconds, HTTP-date or ISO-8601.

    Past moments and negative deltas give 0; anything unparseable gives ``None``.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if re.fullmatch(r"[+-]?\d+(\.\d+)?", text):
        return max(0.0, float(text))
    moment: datetime | None = None
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        moment = None
    if moment is None:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    if moment.tzinfo is None:  # both forms mean UTC when no zone is written
        moment = moment.replace(tzinfo=UTC)
    # The wall clock, not the runtime's: Zoom's date is wall time, and the wait it gives is slept
    # for real.
    current = now or datetime.now(UTC)
    if current.tzinfo is None:
        current = current.replace(tzinfo=UTC)
    return max(0.0, (moment - current).total_seconds())


_SAFE_IDENTIFIER = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")
# Runs long enough to be a token or code; Zoom's own prose never has such words.
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_\-.~+/=]{24,}")
_WINDOW = 12


def contains_secret(text: str, secrets: Iterable[str]) -> bool:
    """True if ``text`` holds a secret or any ``_WINDOW``-character piece of one."""
    for secret in secrets:
        if not secret:
            continue
        if len(secret) <= _WINDOW:
            if secret in text:
                return True
            continue
        if any(secret[i:i + _WINDOW] in text for i in range(len(secret) - _WINDOW + 1)):
            return True
    return False


def safe_text(value: Any, secrets: Iterable[str], *, limit: int = 200) -> str | None:
    """Zoom's free text made fit for logs, or ``None`` if it could hold a sent secret."""
    if not isinstance(value, str):
        return None
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())
    if not text or contains_secret(text, list(secrets)):
        return None
    text = _TOKEN_LIKE.sub("[redacted]", text)
    return text[:limit]


def safe_code(value: Any, secrets: Iterable[str]) -> str | int | None:
    """Zoom's ``error``/``code`` value if it is a plain identifier holding no secret."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if (isinstance(value, str) and _SAFE_IDENTIFIER.fullmatch(value)
            and not contains_secret(value, list(secrets))):
        return int(value) if value.isdigit() else value
    return None


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is not None and value.strip().isdigit():
        return int(value.strip())
    return None


def _header_word(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None and _SAFE_IDENTIFIER.fullmatch(value.strip()):
        return value.strip()
    return None


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _common_error(status: int, headers: Mapping[str, str], data: dict[str, Any] | None,
                  secrets: Iterable[str]) -> ZoomError | None:
    """429, 5xx and unusable bodies: the same on the OAuth host and the REST API."""
    code = safe_code(data.get("code"), secrets) if data else None
    retry_after = parse_retry_after(headers.get("retry-after"))
    if status == 429:
        return ZoomRateLimited(
            "Zoom rate limit reached", status_code=status, zoom_code=code,
            retry_after=retry_after,
            category=_header_word(headers, "x-ratelimit-category"),
            limit_type=_header_word(headers, "x-ratelimit-type"),
            limit=_header_int(headers, "x-ratelimit-limit"),
            remaining=_header_int(headers, "x-ratelimit-remaining"))
    if status >= 500:
        return ZoomUnavailable(f"Zoom server error (HTTP {status})", status_code=status,
                               zoom_code=code, retry_after=retry_after)
    if status < 400:
        return ZoomUnavailable(f"unexpected HTTP {status} from Zoom", status_code=status,
                               retry_after=retry_after)
    if data is None:
        return ZoomUnavailable(f"Zoom answered HTTP {status} without a JSON body",
                               status_code=status, retry_after=retry_after)
    return None


def _is_redirect_mismatch(data: dict[str, Any]) -> bool:
    if data.get("code") in (4709, "4709") or data.get("error") == "redirect_uri_mismatch":
        return True
    for key in ("reason", "message", "error_description"):
        text = data.get(key)
        if isinstance(text, str) and "redirect" in text.lower() and "mismatch" in text.lower():
            return True
    return False


def token_error(status: int, headers: Mapping[str, str], body: bytes,
                secrets: Iterable[str]) -> ZoomError:
    """The error for a non-2xx answer of ``/oauth/token`` or ``/oauth/revoke``."""
    secrets = [s for s in secrets if s]
    data = _json_object(body)
    common = _common_error(status, headers, data, secrets)
    if common is not None:
        return common
    assert data is not None
    error = data.get("error")
    code = safe_code(error, secrets)
    if error == "invalid_grant":
        return ZoomInvalidGrant("refresh token is invalid, rotated or revoked",
                                status_code=status, zoom_code=code)
    if error == "invalid_client":
        return ZoomInvalidClient("Zoom rejected the app's client id or client secret",
                                 status_code=status, zoom_code=code)
    if error == "unsupported_grant_type":
        return ZoomUnsupportedGrant("Zoom does not support this grant type",
                                    status_code=status, zoom_code=code)
    if _is_redirect_mismatch(data):
        numeric = safe_code(data.get("code"), secrets)
        return ZoomInvalidRequest("redirect URI does not match the app's allow-list",
                                  status_code=status, zoom_code=numeric or code,
                                  redirect_mismatch=True)
    if error == "invalid_request":
        return ZoomInvalidRequest(
            "Zoom rejected the token request (authorization code invalid, used or expired)",
            status_code=status, zoom_code=code)
    code = code if code is not None else safe_code(data.get("code"), secrets)
    return ZoomApiError("Zoom rejected the token request", status_code=status, zoom_code=code)


_SCOPES = re.compile(r"scopes?\s*:?\s*\[([^\]]*)\]", re.IGNORECASE)
_SCOPE_NAME = re.compile(r"[A-Za-z0-9_.:\-]{1,100}")


def parse_missing_scopes(message: Any) -> list[str]:
    """Scope names in Zoom's "does not contain scopes:[a, b]" message."""
    if not isinstance(message, str):
        return []
    match = _SCOPES.search(message)
    if match is None:
        return []
    names = re.split(r"[\s,]+", match.group(1))
    return [name for name in names if _SCOPE_NAME.fullmatch(name)]


def api_error(status: int, headers: Mapping[str, str], body: bytes,
              secrets: Iterable[str]) -> ZoomError:
    """The error for a non-2xx answer of the REST API."""
    secrets = [s for s in secrets if s]
    data = _json_object(body)
    common = _common_error(status, headers, data, secrets)
    if common is not None:
        return common
    assert data is not None
    code = safe_code(data.get("code"), secrets)
    message = data.get("message")
    if code == 124 or (status == 401 and code is None):
        expired = isinstance(message, str) and "expired" in message.lower()
        reason = "access token is expired" if expired else "access token is invalid"
        return ZoomInvalidAccessToken(reason, status_code=status, zoom_code=code,
                                      expired=expired)
    if code == 4711:
        scopes = parse_missing_scopes(message)
        reason = "access token lacks required scopes"
        if scopes:
            reason += ": " + ", ".join(scopes)
        return ZoomMissingScopes(reason, status_code=status, zoom_code=code, scopes=scopes)
    if status == 404 and code == 1001:
        return ZoomUserNotFound("the Zoom user no longer exists", status_code=status, zoom_code=code)
    if code == 3003:
        return ZoomNotMeetingHost("the user does not host the meeting", status_code=status, zoom_code=code)
    text = safe_text(message, secrets)
    reason = f"Zoom API error: {text}" if text else "Zoom API request was rejected"
    return ZoomApiError(reason, status_code=status, zoom_code=code)
