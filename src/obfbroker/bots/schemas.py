from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from obfbroker.bots.models import BotStatus
from obfbroker.openapi import NOT_BLANK, url_schema
from obfbroker.schemas import MeetStreamBotStatus, Timestamp

ALICE = "kU3IZz4wym6MdB2sIfrEQ5"
MEETING = "https://zoom.us/j/34363334431?pwd=JrgUdOBK"
BOT_EXAMPLE: dict[str, Any] = {
    "bot_id": "bot_83bc7655d894727b1ec83b45", "status": "queued", "bot_status": "Joining", "reason": None,
    "meeting_link": MEETING, "bot_name": "Notetaker", "audio_required": True, "video_required": False,
    "zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": ALICE},
    "zoom_oauth_connection_user_id": ALICE, "acting_for_zoom_user_id": None, "join_attempts": 0,
    "tokens_minted": 0, "next_attempt_at": None, "callback_url": "https://yourapp.example.com/meetstream/events",
    "custom_attributes": {"crm_deal_id": "D-1042"}, "join_at": None, "deduplication_key": None,
    "created_at": "2026-11-29T08:37:14.368Z", "updated_at": "2026-11-29T08:37:14.368Z",
    "status_history": [{"status": "queued", "reason": None, "at": "2026-11-29T08:37:14.368Z",
                        "acting_for_zoom_user_id": None}],
    "bot_message": "Notetaker is recording this meeting"}


class BotEventRead(BaseModel):
    status: BotStatus
    reason: str | None
    at: Timestamp
    acting_for_zoom_user_id: str | None = Field(
        default=None, description="Hosted OBF: the Zoom user the bot was in the meeting for then")


BOT_STATUS_DESCRIPTION = (
    "MeetStream's status for the bot, derived from status and reason (docs/bots.md): Joining, InWaitingRoom, "
    "InMeeting, Recording, Leaving, Stopped, NotAllowed, Denied, Error or Done; a polling loop stops at "
    "Stopped, NotAllowed, Denied or Error")


class BotRead(BaseModel):
    """A bot as the customer sees it: never its secret or its token URLs."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [BOT_EXAMPLE]})

    bot_id: str
    status: BotStatus = Field(description="Where the bot is: queued, joining, waiting_for_authorizing_user, "
                                          "in_meeting, leaving, ended or failed (the last two are final)")
    bot_status: MeetStreamBotStatus = Field(description=BOT_STATUS_DESCRIPTION)
    reason: str | None = Field(description="Why the bot ended or failed, when it did")
    meeting_link: str
    bot_name: str
    audio_required: bool
    video_required: bool
    zoom: dict[str, Any] = Field(description="The token settings, echoed: use_zoom_obf and the connection "
                                             "user id(s), or your own obf_url / zak_url")
    zoom_oauth_connection_user_id: str | None = Field(
        default=None, description="The connection a hosted-OBF bot acts for (the first candidate)")
    acting_for_zoom_user_id: str | None = Field(
        default=None, description="Hosted OBF: the Zoom user the bot is in the meeting for, once admitted")
    join_attempts: int = Field(default=0, ge=0, description="Join attempts so far")
    tokens_minted: int = Field(default=0, ge=0, description="OBF/ZAK tokens fetched for those attempts")
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
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "bot_id": "bot_83bc7655d894727b1ec83b45", "status": "in_meeting", "bot_status": "InMeeting",
        "reason": None}]})

    bot_id: str
    status: BotStatus
    bot_status: MeetStreamBotStatus = Field(description=BOT_STATUS_DESCRIPTION)
    reason: str | None


def _nullable(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}], "description": description}


_TEXT = {"type": "string", "minLength": 1, "pattern": NOT_BLANK}
# The body of create_bot as parse_bot_request (bots/validation.py) checks it: the rules that hold
# whatever else is sent. Rules across fields (use_zoom_obf needs a Zoom link with a meeting number
# and a connected user; join_at in the future) are in the description and answered 400.
BOT_CREATE_SCHEMA: dict[str, Any] = {
    "title": "BotCreate", "type": "object", "required": ["meeting_link"], "additionalProperties": True,
    "description": "Fields obfbroker acts on, MeetStream fields it type-checks and stores, and any other "
                   "field, stored and echoed as sent (the extra fields together at most 65536 bytes).",
    "examples": [{"meeting_link": MEETING, "bot_name": "Notetaker", "audio_required": True,
                  "video_required": False,
                  "zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": ALICE}},
                 {"meeting_link": MEETING, "zoom": {"obf_url": "https://tokens.yourapp.example.com/zoom/obf"}}],
    "properties": {
        "meeting_link": {"type": "string", **url_schema(),
                         "description": "The meeting to join: a Zoom meeting link (/j/<number>) for "
                                        "use_zoom_obf or a token URL, else any http(s) URL"},
        "bot_name": {**_TEXT, "maxLength": 100, "default": "obfbroker bot"},
        "audio_required": {"type": "boolean", "default": True},
        "video_required": {"type": "boolean", "default": True},
        "zoom": _nullable({
            "type": "object", "additionalProperties": True,
            "properties": {
                "use_zoom_obf": {"type": "boolean", "default": False,
                                 "description": "Hosted OBF: act for a connected Zoom user (a JSON boolean)"},
                "zoom_oauth_connection_user_id": {
                    "description": "With use_zoom_obf: the zoom_user_id of a connection of this account (a "
                                   "string of at most 200 characters); ignored without it"},
                "zoom_oauth_connection_user_ids": {
                    "description": "With use_zoom_obf, instead of the singular: 1 to 10 distinct "
                                   "zoom_user_ids, tried in this order; ignored without it"},
                "obf_url": _nullable({"type": "string", **url_schema()},
                                     "Your own token server (not with use_zoom_obf): https to a public "
                                     "address, checked again where it resolves at every call"),
                "zak_url": _nullable({"type": "string", **url_schema()},
                                     "Your own ZAK token server (not with use_zoom_obf, not with obf_url)"),
            }}, "Where the bot gets its Zoom token"),
        "callback_url": _nullable({"type": "string", **url_schema()},
                                  "Gets MeetStream's callback stream: https to a public address, checked "
                                  "again where it resolves at every delivery"),
        "custom_attributes": _nullable({"type": "object"}, "Your JSON object, echoed"),
        "join_at": _nullable({"type": "string", "format": "date-time"},
                             "When to join, in the future; null: as soon as possible"),
        "deduplication_key": _nullable({**_TEXT, "maxLength": 200},
                                       "Refuse (409, with the existing bot_id) a second unfinished bot with "
                                       "this key"),
        "bot_message": _nullable({"type": "string"}, "MeetStream field, stored"),
        "bot_image_url": _nullable({"type": "string", **url_schema()}, "MeetStream field, stored"),
        "video_separate_streams": _nullable({"type": "boolean"}, "MeetStream field, stored"),
        "automatic_leave": _nullable({"type": "object", "additionalProperties": {
            "not": {"anyOf": [{"type": "boolean"}, {"type": "number", "exclusiveMaximum": 0}]}}},
            "MeetStream timeouts in seconds (non-negative numbers)"),
        **{name: _nullable({"type": "object"}, "MeetStream field, stored") for name in (
            "live_audio_required", "live_transcription_required", "recording_config", "transcription",
            "socket_connection_url")},
        # Set by obfbroker: a request that sends one is answered 400 read_only_field.
        **{name: False for name in (
            "bot_id", "status", "reason", "created_at", "updated_at", "status_history",
            "zoom_oauth_connection_user_id", "bot_status", "acting_for_zoom_user_id", "join_attempts",
            "tokens_minted", "next_attempt_at")},
    },
}


class TokenRequest(BaseModel):
    """POST fallback body of the hosted token endpoints (zoom-platform.md section 7)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "bot_id": "bot_83bc7655d894727b1ec83b45", "meeting_number": "34363334431",
        "webhook_secret": "<bot_secret>"}]})

    bot_id: str
    meeting_number: str | int
    webhook_secret: str
    zoom_user_id: str | None = Field(default=None, max_length=200)


class TokenResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "token": "simobf_GGAMWsKnHNy5eRrWZyLWeLdD7xeWK1DsD9FZN7cjqS4"}]})

    token: str = Field(description="A fresh, single-use Zoom token: never cached, never handed out twice")
