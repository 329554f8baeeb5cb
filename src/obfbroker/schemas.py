"""Shared schema pieces: the error body, timestamp formatting and the closed vocabularies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema


def format_timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` and millisecond precision."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


Timestamp = Annotated[
    datetime, PlainSerializer(format_timestamp, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2026-11-29T08:24:02.107Z"]},
                   mode="serialization")]

# MeetStream's reading of a bot's status and reason (bots/meetstream.py; contract.md).
MeetStreamBotStatus = Literal["Joining", "InWaitingRoom", "InMeeting", "Recording", "Leaving", "Stopped",
                              "NotAllowed", "Denied", "Error", "Done"]


class ErrorRead(BaseModel):
    """Every error answer. Some carry more fields (duplicate_bot: the existing bot's ``bot_id``)."""

    model_config = ConfigDict(title="Error", extra="allow", json_schema_extra={"examples": [{
        "detail": "Zoom user nobody123 is not connected for this account", "code": "zoom_user_not_connected",
        "message": "Zoom user nobody123 is not connected for this account"}]})

    detail: str = Field(description="What went wrong and, where possible, what to do; never a secret")
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$",
                      description="Stable snake_case code: branch on this, not on the text")
    message: str = Field(description="The same text as detail (for clients written for MeetStream's API)")


IDEMPOTENCY_KEY_DESCRIPTION = (
    "Makes retries safe: the same key with the same body within 24 hours answers the first "
    "request's answer (header Idempotent-Replayed: true) instead of acting again; the same key with "
    "another body is 409 idempotency_key_reused. 1 to 255 printable ASCII characters.")
# What validate_key accepts (idempotency.py); HTTP trims spaces at either end of a header value.
IDEMPOTENCY_KEY_SCHEMA = {"minLength": 1, "maxLength": 255, "pattern": r"^[!-~]([ -~]*[!-~])?$"}
