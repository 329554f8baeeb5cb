"""Standard Webhooks signatures (https://www.standardwebhooks.com): secrets, signing, verifying.

The signed content is ``"{webhook-id}.{webhook-timestamp}.{body}"``; the signature header holds
one or more space-separated ``v1,<base64 HMAC-SHA256>`` entries. Customers can use ``verify``
as is (it depends on the standard library only).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24
DEFAULT_TOLERANCE_SECONDS = 300


def generate_secret() -> str:
    """A new signing secret: ``whsec_`` + base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key: the base64-decoded part after ``whsec_`` (the prefix is optional)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("webhook secret is not whsec_<base64>") from None


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body


def sign(secret: str, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """The ``webhook-signature`` header value for one message."""
    content = f"{msg_id}.{timestamp}.".encode() + _as_bytes(body)
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(secret: str, headers: Mapping[str, str], body: bytes | str, *, now: datetime | float,
           tolerance: int = DEFAULT_TOLERANCE_SECONDS) -> bool:
    """True when ``headers`` carry a valid signature of ``body`` made within ``tolerance`` seconds
    of ``now`` (a datetime or epoch seconds). Compares in constant time."""
    lowered = {key.lower(): value for key, value in headers.items()}
    msg_id = lowered.get("webhook-id")
    stamp = lowered.get("webhook-timestamp")
    given = lowered.get("webhook-signature")
    if not msg_id or not stamp or not given:
        return False
    try:
        timestamp = int(stamp)
    except ValueError:
        return False
    current = now.timestamp() if isinstance(now, datetime) else float(now)
    if abs(current - timestamp) > tolerance:
        return False
    expected = sign(secret, msg_id, timestamp, body).encode()
    found = False
    for candidate in given.split():
        # Check every entry so the time taken doesn't reveal which one matched.
        found |= hmac.compare_digest(candidate.encode(), expected)
    return found
