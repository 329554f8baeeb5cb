"""The Meeting SDK JWT a bot authenticates the Zoom Meeting SDK with (zoom-platform.md section 6).

HS256, signed with the Zoom app's client secret; payload
``{appKey, sdkKey, mn, role, iat, exp, tokenExp}`` with ``appKey = sdkKey = client id``.
PyJWT encodes and signs it; the claims and the checks on the arguments are Zoom's rules and
stay here.
"""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta

import jwt

__all__ = ["CLOCK_SKEW", "MAX_LIFETIME", "MIN_LIFETIME", "meeting_sdk_jwt"]

#: Zoom accepts SDK JWTs living from 30 minutes to 48 hours (exp - iat).
MIN_LIFETIME = timedelta(minutes=30)
MAX_LIFETIME = timedelta(hours=48)
#: iat is backdated by this much so a Zoom server whose clock is a little behind ours
#: doesn't see a token issued in the future.
CLOCK_SKEW = timedelta(seconds=30)


def _check_arguments(client_id: str, client_secret: str, meeting_number: str, *, now: datetime,
                     lifetime: timedelta, role: int) -> None:
    if not MIN_LIFETIME <= lifetime <= MAX_LIFETIME:
        raise ValueError(f"SDK JWT lifetime must be from 30 minutes to 48 hours, not {lifetime}")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    if not client_id or not client_secret:
        raise ValueError("client_id and client_secret are required")
    if not (isinstance(meeting_number, str) and meeting_number.isascii() and meeting_number.isdigit()):
        raise ValueError("meeting_number must be a string of ASCII digits")
    if isinstance(role, bool) or role not in (0, 1):
        raise ValueError(f"role must be 0 (attendee) or 1 (host), not {role!r}")


def meeting_sdk_jwt(client_id: str, client_secret: str, meeting_number: str, *, now: datetime,
                    lifetime: timedelta = timedelta(hours=2), role: int = 0) -> str:
    """An HS256 Meeting SDK JWT for one meeting: ``iat = now - 30 s``, ``exp = tokenExp = iat + lifetime``.

    ``meeting_number`` is the meeting's digits (kept a string in ``mn``); ``role`` is 0 (attendee,
    what a bot joins as) or 1 (host); ``now`` must be timezone-aware. ValueError when the lifetime
    is outside 30 minutes to 48 hours or an argument is malformed.
    """
    _check_arguments(client_id, client_secret, meeting_number, now=now, lifetime=lifetime, role=role)
    iat = int((now - CLOCK_SKEW).timestamp())
    exp = iat + int(lifetime.total_seconds())
    payload = {"appKey": client_id, "sdkKey": client_id, "mn": meeting_number, "role": role,
               "iat": iat, "exp": exp, "tokenExp": exp}
    try:
        with warnings.catch_warnings():
            # The key is the app's client secret: its length is Zoom's choice, not ours to warn about.
            warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
            return jwt.encode(payload, client_secret, algorithm="HS256")
    except jwt.InvalidKeyError:
        raise ValueError("client_secret looks like a PEM, SSH or JWK key, not an HMAC secret") from None
