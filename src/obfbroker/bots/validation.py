"""create_bot payload rules (guide, Step 3), with the guide's wording where it has one.

The body is one pydantic model, ``BotCreate``: it checks the body and it is the request schema
/openapi.json shows (``request_schema``). Each field has a validator of its own that answers its
rule with its own message and stable code (``PydanticCustomError(code, message)``); the value
never reaches pydantic's own checks, so no generic validation message is ever answered. Pydantic
reports the fields' errors in the order they are defined, which is the order a customer would fix
them in; ``parse_bot_request`` answers the first one as a 400.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from obfbroker.bots.schemas import (
    NOT_BLANK_TEXT,
    READ_ONLY,
    STORED,
    DeduplicationKey,
    JsonObject,
    LeaveSeconds,
    Url,
    ZoomSettings,
    body_schema,
    document_bot_create,
)
from obfbroker.errors import BadRequest
from obfbroker.openapi import url_schema
from obfbroker.outbound import OutboundPolicy, UrlRefusal
from obfbroker.urls import Rule, first_broken
from obfbroker.zoom.links import NotAZoomLink, ZoomMeetingLink, parse_zoom_link

DEFAULT_BOT_NAME = "obfbroker bot"
MAX_BOT_NAME = 100
MAX_EXTRA_BYTES = 64 * 1024
# What makes a meeting link or a URL of the bot (token servers, callback, image) unusable.
URL_RULES = (Rule.EMPTY, Rule.TOO_LONG, Rule.WHITESPACE, Rule.UNPARSEABLE, Rule.BAD_PORT, Rule.NOT_ABSOLUTE,
             Rule.OTHER_SCHEME)
HTTPS_URL_RULES = (*URL_RULES, Rule.PLAIN_HTTP)
# Fields we act on; anything else a MeetStream client sends is stored and echoed back.
KNOWN = {"meeting_link", "bot_name", "audio_required", "video_required", "zoom", "callback_url",
         "custom_attributes", "join_at", "deduplication_key"}
MAX_DEDUPLICATION_KEY = 200
# MeetStream bot fields we type-check and store: name -> expected JSON type.
MEETSTREAM_FIELDS: dict[str, type | tuple[type, ...]] = {
    "bot_message": str, "bot_image_url": str, "live_audio_required": dict,
    "live_transcription_required": dict, "recording_config": dict, "automatic_leave": dict,
    "transcription": dict, "socket_connection_url": dict, "video_separate_streams": bool,
}
JSON_TYPE_NAMES = {str: "a string", dict: "a JSON object", bool: "a boolean", list: "an array"}
MAX_CANDIDATES = 10
_USER_ID_HINT = "the zoom_user_id returned by POST /api/v1/zoom/oauth/connections"
_JOIN_AT_FORMAT = "join_at must be an ISO 8601 timestamp with a timezone, e.g. 2026-12-01T15:00:00Z"


@dataclass
class BotRequest:
    meeting_link: str
    zoom_link: ZoomMeetingLink | None
    bot_name: str
    audio_required: bool
    video_required: bool
    use_zoom_obf: bool
    connection_user_id: str | None
    connection_user_ids: list[str]
    custom_obf_url: str | None
    custom_zak_url: str | None
    callback_url: str | None
    custom_attributes: dict[str, Any]
    join_at: datetime | None
    deduplication_key: str | None = None
    app_id: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    zoom: dict[str, Any] = field(default_factory=dict)


def _problem(code: str, message: str) -> PydanticCustomError:
    """A broken rule: ``code`` is the answer's code, ``message`` its text as is (no context is
    given, so pydantic formats nothing in it, braces a customer sent included)."""
    return PydanticCustomError(code, message)


def _rule(check: Callable[[Any, ValidationInfo], Any]) -> WrapValidator:
    """A field checked by ``check`` alone: the field's type is what the schema shows, ``check``
    stands for it (pydantic's handler is not called, so its messages never answer)."""
    return WrapValidator(lambda value, _handler, info: check(value, info))


# A MeetStream field: stored as sent, checked with the other extra fields in the order sent.
_LATER = WrapValidator(lambda value, _handler: value)


def _outbound(info: ValidationInfo) -> OutboundPolicy:
    return info.context["outbound"]  # type: ignore[index]


def _zoom_link(link: str) -> tuple[ZoomMeetingLink | None, str]:
    """The Zoom meeting ``link`` is, or None and why it is not one."""
    try:
        return parse_zoom_link(link), ""
    except NotAZoomLink as err:
        return None, str(err)


def _candidate_user_ids(single: Any, several: Any) -> list[str]:
    """The authorizing users a hosted-OBF bot may act for, in the customer's order: the singular
    ``zoom_oauth_connection_user_id`` or the array ``zoom_oauth_connection_user_ids``."""
    if several is not None and single is not None:
        raise _problem("both_connection_user_id_fields", "Send zoom.zoom_oauth_connection_user_id or "
                       "zoom.zoom_oauth_connection_user_ids, not both")
    if several is None:
        if single is None or single == "":
            raise _problem("zoom_oauth_connection_user_id_required",
                           "zoom.zoom_oauth_connection_user_id is required when zoom.use_zoom_obf=true")
        if not isinstance(single, str) or len(single) > 200:
            raise _problem("invalid_zoom_oauth_connection_user_id",
                           f"zoom.zoom_oauth_connection_user_id must be a string: {_USER_ID_HINT}")
        return [single]
    code = "invalid_zoom_oauth_connection_user_ids"
    if not isinstance(several, list) or not 1 <= len(several) <= MAX_CANDIDATES:
        raise _problem(code, f"zoom.zoom_oauth_connection_user_ids must be an array of 1 to {MAX_CANDIDATES} "
                             f"Zoom user ids ({_USER_ID_HINT}), in the order the bot should try them")
    for index, value in enumerate(several):
        if not isinstance(value, str) or not value or len(value) > 200:
            raise _problem(code, f"zoom.zoom_oauth_connection_user_ids[{index}] must be a non-empty string: "
                                 f"{_USER_ID_HINT}")
        if value in several[:index]:
            raise _problem(code, f"zoom.zoom_oauth_connection_user_ids lists Zoom user {value} twice")
    return list(several)


def _https_url(value: Any, name: str, code: str) -> str:
    """An https URL (plain http only for loopback hosts): a URL we hand on, never connect to."""
    if not isinstance(value, str) or first_broken(value, HTTPS_URL_RULES) is not None:
        raise _problem(code, f"{name} must be an https URL")
    return value


def _outbound_url(value: Any, name: str, code: str, policy: OutboundPolicy) -> str:
    """A URL we will connect to: well formed, and one the outbound policy lets us reach."""
    if not isinstance(value, str) or first_broken(value, URL_RULES) is not None:
        raise _problem(code, f"{name} must be an https URL")
    problem = policy.check_url(value)
    if problem is not None:
        raise _problem(code, f"{name} must be an https URL" if problem.reason is UrlRefusal.PLAIN_HTTP
                       else f"{name} {problem.message}")
    return value


def _meeting_link(value: Any, _info: ValidationInfo) -> str:
    if value is None or value == "":
        raise _problem("invalid_meeting_link", "meeting_link is required")
    if not isinstance(value, str) or first_broken(value, URL_RULES) is not None:
        raise _problem("invalid_meeting_link", "meeting_link must be a URL")
    return value


def _zoom(value: Any, info: ValidationInfo) -> ZoomSettings:
    """``zoom`` as the bot echoes it. Its rules need a valid meeting_link: without one (its own
    error comes first) only the rules of ``zoom`` alone are checked."""
    zoom = {} if value is None else value
    if not isinstance(zoom, dict):
        raise _problem("invalid_zoom", "zoom must be a JSON object")
    use_obf = zoom.get("use_zoom_obf", False)
    if not isinstance(use_obf, bool):
        raise _problem("invalid_use_zoom_obf", "zoom.use_zoom_obf is invalid: it must be a JSON boolean "
                                               "(true or false), not a string")
    app_id = zoom.get("app_id")
    if app_id is not None and (not isinstance(app_id, str) or not 0 < len(app_id) <= 40):
        raise _problem("invalid_zoom_app_id", "zoom.app_id must be the app_id of one of your Zoom apps "
                                              "(GET /api/v1/zoom/oauth/apps)")
    if "meeting_link" not in info.data:
        return ZoomSettings(use_zoom_obf=use_obf)
    zoom_link, link_problem = _zoom_link(info.data["meeting_link"])
    custom_obf, custom_zak = zoom.get("obf_url"), zoom.get("zak_url")
    if use_obf:
        if zoom_link is None:
            raise _problem("not_a_zoom_meeting_link", "meeting_link must be a Zoom meeting URL: "
                           f"use_zoom_obf is only for Zoom links ({link_problem})")
        if zoom_link.meeting_number is None:
            raise _problem("meeting_number_required", "meeting_link must include the meeting number for "
                           "use_zoom_obf: personal links (/my/<name>) cannot be used, use the meeting's "
                           "/j/<number> link")
        if custom_obf is not None or custom_zak is not None:
            raise _problem("custom_token_url_with_hosted_auth", "Do not send zoom.obf_url or zoom.zak_url "
                           "with zoom.use_zoom_obf=true: hosted Zoom auth supplies them")
        user_ids = _candidate_user_ids(zoom.get("zoom_oauth_connection_user_id"),
                                       zoom.get("zoom_oauth_connection_user_ids"))
        if "zoom_oauth_connection_user_ids" in zoom:
            return ZoomSettings(use_zoom_obf=True, zoom_oauth_connection_user_ids=user_ids, app_id=app_id)
        return ZoomSettings(use_zoom_obf=True, zoom_oauth_connection_user_id=user_ids[0], app_id=app_id)
    if custom_obf is not None and custom_zak is not None:
        raise _problem("both_token_urls", "Send either zoom.obf_url or zoom.zak_url, not both")
    if custom_obf is not None:
        custom_obf = _outbound_url(custom_obf, "zoom.obf_url", "invalid_zoom_obf_url", _outbound(info))
    if custom_zak is not None:
        custom_zak = _outbound_url(custom_zak, "zoom.zak_url", "invalid_zoom_zak_url", _outbound(info))
    if (custom_obf or custom_zak) and zoom_link is None:
        raise _problem("not_a_zoom_meeting_link",
                       f"meeting_link must be a Zoom meeting URL to use a Zoom token server ({link_problem})")
    return ZoomSettings(use_zoom_obf=False, obf_url=custom_obf, zak_url=custom_zak, app_id=app_id)


def _bot_name(value: Any, _info: ValidationInfo) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_BOT_NAME:
        raise _problem("invalid_bot_name", f"bot_name must be a non-empty string of at most {MAX_BOT_NAME} "
                                           "characters")
    return value.strip()


def _callback_url(value: Any, info: ValidationInfo) -> str | None:
    if value is None:
        return None
    return _outbound_url(value, "callback_url", "invalid_callback_url", _outbound(info))


def _custom_attributes(value: Any, _info: ValidationInfo) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _problem("invalid_custom_attributes", "custom_attributes must be a JSON object")
    return value


def _boolean(name: str, code: str) -> WrapValidator:
    def check(value: Any, _info: ValidationInfo) -> bool:
        if not isinstance(value, bool):
            raise _problem(code, f"{name} must be a boolean (true or false)")
        return value
    return _rule(check)


def _join_at(value: Any, info: ValidationInfo) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _problem("invalid_join_at", _JOIN_AT_FORMAT)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise _problem("invalid_join_at", _JOIN_AT_FORMAT)
    if when <= info.context["now"]:  # type: ignore[index]
        raise _problem("invalid_join_at", "join_at must be in the future")
    return when.astimezone(UTC)


def _deduplication_key(value: Any, _info: ValidationInfo) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_DEDUPLICATION_KEY:
        raise _problem("invalid_deduplication_key", f"deduplication_key must be a non-empty string of at "
                                                    f"most {MAX_DEDUPLICATION_KEY} characters")
    return value


def _meetstream_settings(body: dict[str, Any]) -> dict[str, Any]:
    """The fields obfbroker does not act on, checked in the order they were sent and stored."""
    settings: dict[str, Any] = {}
    for name, value in body.items():
        if name in KNOWN:
            continue
        if name in READ_ONLY:
            raise _problem("read_only_field", f"{name} is set by obfbroker and cannot be sent")
        expected = MEETSTREAM_FIELDS.get(name)
        if expected is not None and value is not None and not isinstance(value, expected):
            raise _problem(f"invalid_{name}", f"{name} must be {JSON_TYPE_NAMES[expected]}")
        settings[name] = value
    if settings.get("bot_image_url") is not None:
        _https_url(settings["bot_image_url"], "bot_image_url", "invalid_bot_image_url")
    leave = settings.get("automatic_leave") or {}
    for key, seconds in leave.items():
        if isinstance(seconds, bool) or (isinstance(seconds, int | float) and seconds < 0):
            raise _problem("invalid_automatic_leave",
                           f"automatic_leave.{key} must be a non-negative number of seconds")
    size = len(json.dumps(settings, separators=(",", ":")).encode())
    if size > MAX_EXTRA_BYTES:
        raise _problem("payload_too_large",
                       f"the extra bot settings are {size} bytes; at most {MAX_EXTRA_BYTES} are stored")
    return settings


class BotCreate(BaseModel):
    """The body of create_bot. Fields are checked in the order they are defined here (each one's
    error comes before the next one's), then the extra fields in the order they were sent."""

    model_config = ConfigDict(extra="allow", json_schema_extra=document_bot_create)
    _settings: dict[str, Any] = PrivateAttr(default_factory=dict)

    meeting_link: Annotated[str, _rule(_meeting_link)] = Field(json_schema_extra=url_schema(), description=(
        "The meeting to join: a Zoom meeting link (/j/<number>) for use_zoom_obf or a token URL, else any "
        "http(s) URL"))
    zoom: Annotated[ZoomSettings | None, _rule(_zoom)] = Field(
        default_factory=ZoomSettings, description="Where the bot gets its Zoom token")
    bot_name: Annotated[str, _rule(_bot_name)] = Field(
        DEFAULT_BOT_NAME, json_schema_extra={**NOT_BLANK_TEXT, "maxLength": MAX_BOT_NAME})
    callback_url: Annotated[Url | None, _rule(_callback_url)] = Field(None, description=(
        "Gets MeetStream's callback stream: https to a public address, checked again where it resolves at "
        "every delivery"))
    custom_attributes: Annotated[JsonObject | None, _rule(_custom_attributes)] = Field(
        default_factory=dict, description="Your JSON object, echoed")
    audio_required: Annotated[bool, _boolean("audio_required", "invalid_audio_required")] = True
    video_required: Annotated[bool, _boolean("video_required", "invalid_video_required")] = True
    join_at: Annotated[datetime | None, _rule(_join_at)] = Field(
        None, description="When to join, in the future; null: as soon as possible")
    deduplication_key: Annotated[DeduplicationKey | None, _rule(_deduplication_key)] = Field(
        None, description="Refuse (409, with the existing bot_id) a second unfinished bot with this key")
    # MeetStream fields (MEETSTREAM_FIELDS), checked by _meetstream_settings in the order sent.
    bot_message: Annotated[str | None, _LATER] = Field(None, description=STORED)
    bot_image_url: Annotated[Url | None, _LATER] = Field(None, description=STORED)
    video_separate_streams: Annotated[bool | None, _LATER] = Field(None, description=STORED)
    automatic_leave: Annotated[dict[str, LeaveSeconds] | None, _LATER] = Field(
        None, description="MeetStream timeouts in seconds (non-negative numbers)")
    live_audio_required: Annotated[JsonObject | None, _LATER] = Field(None, description=STORED)
    live_transcription_required: Annotated[JsonObject | None, _LATER] = Field(None, description=STORED)
    recording_config: Annotated[JsonObject | None, _LATER] = Field(None, description=STORED)
    transcription: Annotated[JsonObject | None, _LATER] = Field(None, description=STORED)
    socket_connection_url: Annotated[JsonObject | None, _LATER] = Field(None, description=STORED)

    @model_validator(mode="wrap")
    @classmethod
    def _whole_body(cls, body: Any, handler: ModelWrapValidatorHandler[BotCreate]) -> BotCreate:
        if not isinstance(body, dict):
            raise _problem("invalid_request", "The request body must be a JSON object")
        # An absent meeting_link is checked as null: "meeting_link is required", as for an empty one.
        bot = handler(body if "meeting_link" in body else {**body, "meeting_link": None})
        bot._settings = _meetstream_settings(body)  # only once every field above holds
        return bot

    @property
    def settings(self) -> dict[str, Any]:
        """Every field obfbroker does not act on, as sent: stored and echoed."""
        return self._settings


def request_schema() -> dict[str, Any]:
    """BotCreate's JSON schema, as create_bot's requestBody shows it."""
    return body_schema(BotCreate)


def _answer(error: ValidationError) -> BadRequest:
    """The first problem pydantic reports, as create_bot's 400. Every rule raises
    ``PydanticCustomError(code, message)``, so the error's type is its code; a ValueError a rule
    did not mean (pydantic wraps it too) is a bug, raised as it was, not a customer's mistake."""
    first = error.errors(include_url=False, include_input=False)[0]
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, Exception):
        raise cause
    return BadRequest(first["msg"], code=first["type"])


def parse_bot_request(body: Any, *, outbound: OutboundPolicy, now: datetime) -> BotRequest:
    """Check a create_bot body; raises a 400 naming the first problem found. ``outbound`` is the
    policy the URLs we will connect to (token servers, callback) are held to."""
    try:
        bot = BotCreate.model_validate(body, context={"outbound": outbound, "now": now})
    except ValidationError as error:
        raise _answer(error) from None
    zoom = bot.zoom or ZoomSettings()
    if zoom.zoom_oauth_connection_user_ids is not None:
        user_ids: list[str] = list(zoom.zoom_oauth_connection_user_ids)
    else:
        user_ids = [zoom.zoom_oauth_connection_user_id] if zoom.use_zoom_obf else []
    return BotRequest(
        meeting_link=bot.meeting_link, zoom_link=_zoom_link(bot.meeting_link)[0], bot_name=bot.bot_name,
        audio_required=bot.audio_required, video_required=bot.video_required,
        use_zoom_obf=zoom.use_zoom_obf, connection_user_id=user_ids[0] if user_ids else None,
        connection_user_ids=user_ids, custom_obf_url=zoom.obf_url, custom_zak_url=zoom.zak_url,
        callback_url=bot.callback_url, custom_attributes=bot.custom_attributes or {}, join_at=bot.join_at,
        deduplication_key=bot.deduplication_key, app_id=zoom.app_id, settings=bot.settings,
        zoom=zoom.model_dump(exclude_none=True),
    )
