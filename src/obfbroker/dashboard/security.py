"""Dashboard sessions, CSRF tokens, OAuth state and the sign-in rate limit.

Everything here is stateless except the rate limit: a session is a signed cookie, a CSRF token
is a MAC of the session's nonce, an OAuth ``state`` is a signed value bound to the session. The
signing keys are derived from the deployment's hashing key (``runtime.hasher``), one per purpose,
so a value made for one purpose never verifies as another, and every process agrees on them.

itsdangerous signs and verifies (HMAC-SHA256, compared in constant time). Kept ours, on purpose:

- the per-purpose keys (``key_derivation="none"``: itsdangerous gets the derived key as is);
- the payload codec, sorted compact JSON in unpadded base64url: itsdangerous's URL-safe
  serializer may zlib-compress and prefix a dot, where a sealed value here is always
  ``body.signature``. Cookies and states made before itsdangerous was used still verify;
- expiry as a claim (``x``) checked against the runtime's clock: itsdangerous's timestamped
  signers read the wall clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import itsdangerous

from obfbroker.accounts.service import Hasher

SESSION_COOKIE = "obf_dashboard_session"
LOGIN_COOKIE = "obf_dashboard_login"
COOKIE_PATH = "/dashboard"
SESSION_LIFETIME = timedelta(hours=12)
STATE_LIFETIME = timedelta(minutes=10)
LOGIN_COOKIE_SECONDS = 3600
# Plain-http cookies are allowed only where a browser talks to this machine.
INSECURE_OK_HOSTS = frozenset({"localhost", "127.0.0.1"})
MAX_SEALED_LENGTH = 4096
_SIGNING = {"key_derivation": "none", "digest_method": hashlib.sha256}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class _Base64Json:
    """The payload codec itsdangerous seals with (see the module docstring)."""

    @staticmethod
    def dumps(payload: dict[str, Any]) -> str:
        return _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())

    @staticmethod
    def loads(body: str) -> Any:
        return json.loads(_unb64(body))


def cookie_secure(public_url: str) -> bool:
    """Cookies carry ``Secure`` unless the dashboard is served over http on localhost."""
    parts = urlsplit(public_url)
    return not (parts.scheme == "http" and parts.hostname in INSECURE_OK_HOSTS)


@dataclass(frozen=True)
class SessionClaims:
    account_id: str
    key_id: str
    expires_at: int
    nonce: str


class Signer:
    """MACs under keys derived from the deployment's hashing key, one key per purpose."""

    PURPOSES = ("session", "csrf", "login-csrf", "oauth-state", "state-binding")

    def __init__(self, hasher: Hasher) -> None:
        # Domain separation: the derivation input contains a newline, which no API key,
        # code or bot id (the other inputs of this hasher) ever does.
        keys = {p: bytes.fromhex(hasher.digest(f"obfbroker-dashboard-v1\n{p}")) for p in self.PURPOSES}
        self._signers = {p: itsdangerous.Signer(key, **_SIGNING) for p, key in keys.items()}
        self._serializers = {p: itsdangerous.Serializer(key, serializer=_Base64Json, signer_kwargs=_SIGNING)
                             for p, key in keys.items()}

    def __repr__(self) -> str:
        return "Signer(<redacted>)"

    def mac(self, purpose: str, value: str) -> str:
        return self._signers[purpose].get_signature(value).decode()

    def seal(self, purpose: str, payload: dict[str, Any]) -> str:
        return self._serializers[purpose].dumps(payload)

    def open(self, purpose: str, token: str | None) -> dict[str, Any] | None:
        """The payload of a value this signer sealed for ``purpose``, or None."""
        if not token or len(token) > MAX_SEALED_LENGTH:
            return None
        try:
            payload = self._serializers[purpose].loads(token)
        except itsdangerous.BadData:
            return None
        return payload if isinstance(payload, dict) else None

    # Sessions -------------------------------------------------------------------------------

    def new_session(self, *, account_id: str, key_id: str, now: datetime) -> tuple[str, SessionClaims]:
        claims = SessionClaims(account_id, key_id, int((now + SESSION_LIFETIME).timestamp()),
                               _b64(secrets.token_bytes(16)))
        cookie = self.seal("session", {"a": claims.account_id, "k": claims.key_id,
                                       "x": claims.expires_at, "n": claims.nonce})
        return cookie, claims

    def read_session(self, cookie: str | None, *, now: datetime) -> SessionClaims | None:
        """The claims of an authentic, unexpired session cookie (the key is checked by the caller)."""
        payload = self.open("session", cookie)
        if payload is None:
            return None
        try:
            claims = SessionClaims(str(payload["a"]), str(payload["k"]), int(payload["x"]),
                                   str(payload["n"]))
        except (KeyError, TypeError, ValueError):
            return None
        return claims if claims.expires_at > now.timestamp() else None

    # CSRF -------------------------------------------------------------------------------------

    def csrf_token(self, claims: SessionClaims) -> str:
        """The token every form of this session carries: useless in any other session."""
        return self.mac("csrf", claims.nonce)

    def login_csrf_token(self, login_nonce: str) -> str:
        """The sign-in form's token, tied to the pre-session cookie (there is no session yet)."""
        return self.mac("login-csrf", login_nonce)

    # OAuth state ------------------------------------------------------------------------------

    def oauth_state(self, claims: SessionClaims, *, now: datetime) -> str:
        """A ``state`` for Zoom's authorize URL that only this session can complete. It names the
        session by a MAC of its nonce, so nothing that derives the CSRF token travels to Zoom."""
        return self.seal("oauth-state", {"s": self.mac("state-binding", claims.nonce),
                                         "x": int((now + STATE_LIFETIME).timestamp())})

    def state_matches(self, state: str | None, claims: SessionClaims, *, now: datetime) -> bool:
        payload = self.open("oauth-state", state)
        if payload is None or not isinstance(payload.get("x"), int) or payload["x"] <= now.timestamp():
            return False
        expected = self.mac("state-binding", claims.nonce)
        return hmac.compare_digest(str(payload.get("s", "")).encode(), expected.encode())


def new_login_nonce() -> str:
    return _b64(secrets.token_bytes(16))


class LoginLimiter:
    """At most ``max_failures`` failed sign-ins per client IP per ``window`` seconds.

    Kept in process memory: with N dashboard processes an address gets up to N times the
    budget, which still bounds guessing (API keys hold 256 random bits; the limit is there to
    stop noise and credential-stuffing, not to make guessing hard).
    """

    def __init__(self, *, max_failures: int = 10, window: float = 300.0, max_tracked: int = 10_000,
                 clock: Any = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window = window
        self.max_tracked = max_tracked
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, ip: str) -> deque[float] | None:
        failures = self._failures.get(ip)
        if failures is None:
            return None
        cutoff = self._clock() - self.window
        while failures and failures[0] <= cutoff:
            failures.popleft()
        if not failures:
            del self._failures[ip]
            return None
        return failures

    def retry_after(self, ip: str) -> int | None:
        """Seconds until ``ip`` may try again, or None if it may try now."""
        failures = self._recent(ip)
        if failures is None or len(failures) < self.max_failures:
            return None
        return max(1, int(failures[-self.max_failures] + self.window - self._clock()) + 1)

    def record_failure(self, ip: str) -> None:
        failures = self._recent(ip) or deque()
        failures.append(self._clock())
        while len(failures) > self.max_failures:
            failures.popleft()
        self._failures[ip] = failures
        self._failures.move_to_end(ip)
        while len(self._failures) > self.max_tracked:  # bounded memory under a spray of addresses
            self._failures.popitem(last=False)
