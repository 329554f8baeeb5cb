from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from obfbroker.schemas import Timestamp


class BotEventRead(BaseModel):
    status: str
    reason: str | None
    at: Timestamp
    acting_for_zoom_user_id: str | None = Field(
        default=None, description="Hosted OBF: the Zoom user the bot was in the meeting for then")


BOT_STATUS_DESCRIPTION = (
    "MeetStream's status for the bot, derived from status and reason (docs/bots.md): Joining, "
    "InWaitingRoom, InMeeting, Recording, Leaving, Stopped, NotAllowed, Denied, Error or Done; a "
    "polling loop stops at Stopped, NotAllowed, Denied or Error")


class BotRead(BaseModel):
    """A bot as the customer sees it: never its secret or its token URLs."""

    model_config = ConfigDict(extra="allow")

    bot_id: str
    status: str
    bot_status: str = Field(description=BOT_STATUS_DESCRIPTION)
    reason: str | None = Field(description="Why the bot ended or failed, when it did")
    meeting_link: str
    bot_name: str
    audio_required: bool
    video_required: bool
    zoom: dict[str, Any]
    zoom_oauth_connection_user_id: str | None = Field(
        default=None, description="The connection a hosted-OBF bot acts for (the first candidate)")
    acting_for_zoom_user_id: str | None = Field(
        default=None, description="Hosted OBF: the Zoom user the bot is in the meeting for, once admitted")
    join_attempts: int = Field(default=0, description="Join attempts so far")
    tokens_minted: int = Field(default=0, description="OBF/ZAK tokens fetched for those attempts")
    next_attempt_at: Timestamp | None = Field(
        default=None, description="While waiting between attempts: when the bot tries again")
    callback_url: str | None
    custom_attributes: dict[str, Any]
    join_at: Timestamp | None
    deduplication_key: str | None = Field(
        default=None, description="While the bot is unfinished, no other bot can be created with this key")
    created_at: Timestamp
    updated_at: Timestamp
    status_history: list[BotEventRead]


class BotStatusRead(BaseModel):
    bot_id: str
    status: str
    bot_status: str = Field(description=BOT_STATUS_DESCRIPTION)
    reason: str | None


class BotCreateExample(BaseModel):
    """Documented shape of ``POST /api/v1/bots/create_bot``; the endpoint checks the body itself
    so each rule can answer with the guide's message."""

    model_config = ConfigDict(extra="allow")

    meeting_link: str = Field(examples=["https://zoom.us/j/123456789?pwd=abc"])
    bot_name: str = "obfbroker bot"
    audio_required: bool = True
    video_required: bool = True
    zoom: dict[str, Any] = Field(default_factory=dict, examples=[
        {"use_zoom_obf": True, "zoom_oauth_connection_user_id": "KdYKjnimT4KPd8FFgQt9FQ"}])
    callback_url: str | None = None
    custom_attributes: dict[str, Any] = Field(default_factory=dict)
    join_at: datetime | None = None
    deduplication_key: str | None = Field(
        default=None,
        description="Refuse (409, with the existing bot_id) a second unfinished bot with this key")


class TokenRequest(BaseModel):
    """POST fallback body of the hosted token endpoints (zoom-platform.md section 7)."""

    bot_id: str
    meeting_number: str | int
    webhook_secret: str
    zoom_user_id: str | None = Field(default=None, max_length=200)


class TokenResponse(BaseModel):
    token: str
