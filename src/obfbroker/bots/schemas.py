from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.json_schema import GenerateJsonSchema

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


# create_bot's body is BotCreate (bots/validation.py), whose rules check it; here are the shapes its
# schema shows. A rule checks its field itself, with its own message: these only say its constraints.
Url = Annotated[str, WithJsonSchema({"type": "string", **url_schema()})]
NOT_BLANK_TEXT = {"minLength": 1, "pattern": NOT_BLANK}
DeduplicationKey = Annotated[str, WithJsonSchema({"type": "string", **NOT_BLANK_TEXT, "maxLength": 200})]
JsonObject = Annotated[dict[str, Any], WithJsonSchema({"type": "object"})]  # any JSON object
LeaveSeconds = Annotated[Any, WithJsonSchema(
    {"not": {"anyOf": [{"type": "boolean"}, {"type": "number", "exclusiveMaximum": 0}]}})]
STORED = "MeetStream field, stored"
# Fields of the bot object that obfbroker sets; a request cannot choose them.
READ_ONLY = ("bot_id", "status", "reason", "created_at", "updated_at", "status_history",
             "zoom_oauth_connection_user_id", "bot_status", "acting_for_zoom_user_id", "join_attempts",
             "tokens_minted", "next_attempt_at")
# The order docs/api.md lists the fields in (BotCreate defines them in the order they are checked).
DOCUMENTED_ORDER = ("meeting_link", "bot_name", "audio_required", "video_required", "zoom")


def document_bot_create(schema: dict[str, Any]) -> None:
    """BotCreate's ``json_schema_extra``: what its fields can't say."""
    schema["description"] = (
        "Fields obfbroker acts on, MeetStream fields it type-checks and stores, and any other field, stored "
        "and echoed as sent (the extra fields together at most 65536 bytes).")
    schema["examples"] = [
        {"meeting_link": MEETING, "bot_name": "Notetaker", "audio_required": True, "video_required": False,
         "zoom": {"use_zoom_obf": True, "zoom_oauth_connection_user_id": ALICE}},
        {"meeting_link": MEETING, "zoom": {"obf_url": "https://tokens.yourapp.example.com/zoom/obf"}}]
    # Set by obfbroker: a request that sends one is answered 400 read_only_field.
    schema["properties"] = ({name: schema["properties"][name] for name in DOCUMENTED_ORDER}
                            | schema["properties"] | dict.fromkeys(READ_ONLY, False))


# zoom of a create_bot body. It has no rules of its own: BotCreate's zoom rule checks the object
# (its rules need meeting_link) and builds this from what it accepts, which is what the bot echoes.
class ZoomSettings(BaseModel):
    model_config = ConfigDict(extra="allow")

    use_zoom_obf: bool = Field(False, description="Hosted OBF: act for a connected Zoom user (a JSON "
                                                  "boolean)")
    zoom_oauth_connection_user_id: Any = Field(None, description=(
        "With use_zoom_obf: the zoom_user_id of a connection of this account (a string of at most 200 "
        "characters); ignored without it"))
    zoom_oauth_connection_user_ids: Any = Field(None, description=(
        "With use_zoom_obf, instead of the singular: 1 to 10 distinct zoom_user_ids, tried in this order; "
        "ignored without it"))
    obf_url: Url | None = Field(None, description=(
        "Your own token server (not with use_zoom_obf): https to a public address, checked again where it "
        "resolves at every call"))
    zak_url: Url | None = Field(None, description=(
        "Your own ZAK token server (not with use_zoom_obf, not with obf_url)"))
    app_id: str | None = Field(None, max_length=40, description=(
        "Which of your Zoom apps the bot joins with (its app_id); with use_zoom_obf it must be the app the "
        "users authorized. Left out: their app, else your default app"))


class _UntitledFields(GenerateJsonSchema):
    """Without pydantic's field titles ("Bot Name"): the names say it."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema as a request body of the document shows it: its ``$defs`` in place
    of their references (a schema inside an OpenAPI operation cannot point at its own ``$defs``)."""
    schema = model.model_json_schema(schema_generator=_UntitledFields)
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, list):
            return [inline(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            rest = {key: value for key, value in node.items() if key != "$ref"}
            return {**inline(defs[node["$ref"].rsplit("/", 1)[1]]), **inline(rest)}
        return {key: inline(value) for key, value in node.items()}

    return inline(schema)


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
