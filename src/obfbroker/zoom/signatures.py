"""Zoom's webhook signatures (zoom-platform.md section 5)."""

from __future__ import annotations

import hashlib
import hmac
import re

TOLERANCE_SECONDS = 300
# Seconds since the epoch in ASCII digits: str.isdigit and int() also take "²" or "٣", and a
# 400-digit number overflows the float arithmetic of the tolerance check.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def parse_timestamp(text: str) -> int | None:
    """``x-zm-request-timestamp`` as an int, or None when it isn't 1 to 12 ASCII digits."""
    return int(text) if _TIMESTAMP.fullmatch(text) else None


def zoom_signature(secret_token: str, timestamp: str, body: bytes) -> str:
    """``v0=<hex HMAC-SHA256(secret, "v0:{timestamp}:{body}")>``."""
    message = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret_token.encode(), message, hashlib.sha256).hexdigest()


def signature_matches(secret_token: str, timestamp: str, body: bytes, presented: str) -> bool:
    return hmac.compare_digest(zoom_signature(secret_token, timestamp, body).encode(),
                               presented.encode())


def url_validation_answer(secret_token: str, plain_token: str) -> dict[str, str]:
    """What Zoom expects back from ``endpoint.url_validation``."""
    encrypted = hmac.new(secret_token.encode(), plain_token.encode(), hashlib.sha256).hexdigest()
    return {"plainToken": plain_token, "encryptedToken": encrypted}
