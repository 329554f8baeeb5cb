"""Standard Webhooks signatures (https://www.standardwebhooks.com): secrets, signing, verifying.

The signed content is ``"{webhook-id}.{webhook-timestamp}.{body}"``; the signature header holds
one or more space-separated ``v1,<base64 HMAC-SHA256>`` entries. The signature itself comes
from the standard's reference library (``standardwebhooks``), so what we send is, by
construction, what every Standard Webhooks verifier computes.

Kept ours, on purpose:

- ``generate_secret``: the library makes no secrets.
- ``secret_key``: the library decodes a secret leniently (characters outside base64 are
  dropped, so a mistyped secret quietly becomes another key); we refuse anything that is not
  ``whsec_<base64>`` and hand the library the decoded key.
- ``verify``: the library's ``Webhook.verify`` reads the wall clock with a fixed 5-minute
  tolerance (we verify at a given ``now``, with a given tolerance), parses the body as JSON,
  and raises ``ValueError``/``binascii.Error`` rather than failing on a malformed signature
  entry. Ours checks the headers and the time itself, then compares every entry, in constant
  time, against the library's signature.

The library signs text, so a body must be UTF-8 (ours are JSON envelopes); ``verify`` fails a
body that is not.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime

from standardwebhooks import Webhook

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
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        raise ValueError("webhook secret is not whsec_<base64>")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """The ``webhook-signature`` header value for one message (``body`` UTF-8 when bytes)."""
    text = body.decode() if isinstance(body, bytes) else body
    return Webhook(secret_key(secret)).sign(msg_id, datetime.fromtimestamp(timestamp, UTC), text)


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
    try:
        expected = sign(secret, msg_id, timestamp, body).encode()
    except UnicodeDecodeError:
        return False
    found = False
    for candidate in given.split():
        # Check every entry so the time taken doesn't reveal which one matched.
        found |= hmac.compare_digest(candidate.encode(), expected)
    return found
