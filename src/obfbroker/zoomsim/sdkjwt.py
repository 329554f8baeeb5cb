"""Meeting SDK JWTs (HS256): an encoder for tests and other code, and the checks a meeting applies.

Payload, per zoom-platform.md section 6: `{appKey, sdkKey, mn, role, iat, exp, tokenExp}`, signed
with the app's client secret; `appKey` (and `sdkKey`, when present) is the app's client id.

PyJWT encodes tokens and checks their signature. The rest of the checks stay ours on purpose:
a meeting refuses a token by a named rule with its own message (`SdkJwtError`; the join error
quotes it), in a fixed order (the secret to check the signature with is found from the
unverified `appKey`), and on claims PyJWT does not know (`mn`, `role`, `tokenExp`, Zoom's
30-minute to 48-hour lifetime). PyJWT's `decode` would report every malformed part as one
`DecodeError` and judge `exp` by the wall clock, where the simulator keeps a clock of its own.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import jwt

HEADER = {"alg": "HS256", "typ": "JWT"}
MIN_LIFETIME = 1800  # exp - iat, seconds: 30 minutes ...
MAX_LIFETIME = 48 * 3600  # ... to 48 hours
ROLES = (0, 1)  # 0 attendee, 1 host

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_JWS = jwt.PyJWS()


class SdkJwtError(ValueError):
    """An SDK JWT the meeting refuses; `rule` is a stable name of the check that failed."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule, self.message = rule, message


@contextlib.contextmanager
def _secrets_of_any_length() -> Iterator[None]:
    """Apps register secrets of any length: PyJWT's warning about a short one is not ours to give."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
        yield


def b64url_decode(segment: str) -> bytes:
    """Strict base64url decoding (no padding, no foreign characters); ValueError otherwise."""
    if not _B64URL.fullmatch(segment) or len(segment) % 4 == 1:
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except binascii.Error as exc:  # pragma: no cover - the pattern above rules this out
        raise ValueError("not base64url") from exc


def sign_hs256(payload: Mapping[str, Any], secret: str,
               header: Mapping[str, Any] | None = None) -> str:
    """Any JSON payload as an HS256 JWT. Tests pass another `header` to build tokens that break
    one rule; the token is then signed with that header's `alg` (none: no signature)."""
    headers = dict(header or HEADER)
    key = None if headers.get("alg") == "none" else secret
    with _secrets_of_any_length():
        return jwt.encode(dict(payload), key, algorithm="HS256", headers=headers)


def encode_sdk_jwt(client_id: str, client_secret: str, meeting_number: str | int, *,
                   iat: int, exp: int, role: int = 0) -> str:
    """A Meeting SDK JWT for one meeting: appKey = sdkKey = client_id, tokenExp = exp."""
    payload = {
        "appKey": client_id,
        "sdkKey": client_id,
        "mn": meeting_number,
        "role": role,
        "iat": int(iat),
        "exp": int(exp),
        "tokenExp": int(exp),
    }
    return sign_hs256(payload, client_secret)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def _json_object(segment: str, what: str) -> dict:
    try:
        value = json.loads(b64url_decode(segment))
    except (ValueError, UnicodeDecodeError) as exc:
        raise SdkJwtError("malformed", f"the JWT {what} is not base64url-encoded JSON") from exc
    if not isinstance(value, dict):
        raise SdkJwtError("malformed", f"the JWT {what} is not a JSON object")
    return value


def _check_signature(token: str, secret: str) -> None:
    """PyJWT's HS256 check of the signature (the header's alg is known to be HS256 by now)."""
    try:
        with _secrets_of_any_length():
            _JWS.decode_complete(token, secret, algorithms=["HS256"])
    except (jwt.InvalidSignatureError, jwt.InvalidKeyError):
        raise SdkJwtError("signature", "the signature does not match the app's client secret") from None
    except jwt.InvalidTokenError as exc:  # e.g. a non-canonical base64url segment, a bad kid or crit
        raise SdkJwtError("malformed", f"the JWT is not a valid JWS ({exc})") from None


def decode_and_verify(token: str, secret_for: Callable[[str], str | None], *,
                      meeting_number: str | int, now: float) -> dict:
    """The verified payload of an SDK JWT for this meeting at time `now`, or SdkJwtError.

    `secret_for(client_id)` returns that registered app's client secret, or None when no app has
    that client id. Checks, in order: structure and `alg`, `appKey` (a registered app), the
    signature, `sdkKey`, `mn`, `role`, `iat`/`exp`/`tokenExp`, the lifetime, expiry.
    """
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3 or not all(parts[:2]):
        raise SdkJwtError("malformed", "the JWT must have three dot-separated parts")
    header = _json_object(parts[0], "header")
    payload = _json_object(parts[1], "payload")
    try:
        b64url_decode(parts[2])
    except ValueError as exc:
        raise SdkJwtError("malformed", "the JWT signature is not base64url") from exc
    if header.get("alg") != "HS256":
        raise SdkJwtError("algorithm", f"alg must be HS256, not {header.get('alg')!r}")

    app_key = payload.get("appKey")
    if not isinstance(app_key, str) or not app_key:
        raise SdkJwtError("app_key", "appKey is missing or not a string")
    secret = secret_for(app_key)
    if secret is None:
        raise SdkJwtError("app_key", f"appKey {app_key!r} is not the client id of a registered app")
    _check_signature(token, secret)
    sdk_key = payload.get("sdkKey", app_key)
    if sdk_key != app_key:
        raise SdkJwtError("app_key", "sdkKey must equal appKey (the app's client id)")

    mn = payload.get("mn")
    if isinstance(mn, bool) or not isinstance(mn, str | int) or str(mn) != str(meeting_number):
        raise SdkJwtError("meeting_number", f"mn {mn!r} is not this meeting's number {meeting_number}")
    role = payload.get("role")
    if isinstance(role, bool) or role not in ROLES:
        raise SdkJwtError("role", f"role must be 0 or 1, not {role!r}")

    for claim in ("iat", "exp", "tokenExp"):
        if not _is_number(payload.get(claim)):
            raise SdkJwtError("claims", f"{claim} is missing or not a number")
    iat, exp, token_exp = payload["iat"], payload["exp"], payload["tokenExp"]
    lifetime = exp - iat
    if not MIN_LIFETIME <= lifetime <= MAX_LIFETIME:
        raise SdkJwtError(
            "lifetime",
            f"exp - iat is {lifetime:g} s; it must be from {MIN_LIFETIME} s (30 min) "
            f"to {MAX_LIFETIME} s (48 h)",
        )
    if token_exp - iat < MIN_LIFETIME:
        raise SdkJwtError("lifetime", f"tokenExp must be at least {MIN_LIFETIME} s after iat")
    if now >= min(exp, token_exp):
        raise SdkJwtError("expired", f"the JWT expired at {_iso(min(exp, token_exp))} (sim clock)")
    return payload
