"""Shared schema pieces: the error body and timestamp formatting."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, PlainSerializer


def format_timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` and millisecond precision."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


Timestamp = Annotated[datetime, PlainSerializer(format_timestamp, return_type=str)]


class ErrorRead(BaseModel):
    detail: str
    code: str
    message: str


ERROR_RESPONSES = {
    400: {"model": ErrorRead, "description": "Invalid input; nothing was changed"},
    401: {"model": ErrorRead,
          "description": "No API key (missing_api_key) or a malformed Authorization header"},
    403: {"model": ErrorRead, "description": "The API key was received and rejected: unknown or revoked "
                                             "(invalid_api_key)"},
}
IDEMPOTENCY_KEY_DESCRIPTION = (
    "Makes retries safe: the same key with the same body within 24 hours answers the first "
    "request's answer (header Idempotent-Replayed: true) instead of acting again; the same key with "
    "another body is 409 idempotency_key_reused")
