"""create_bot payload rules (guide, Step 3), with the guide's wording where it has one.

The body is checked by hand rather than by a pydantic model so that each rule answers with
its own message and stable code, in the order a customer would fix them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from obfbroker.errors import BadRequest
from obfbroker.outbound import OutboundPolicy, UrlRefusal
from obfbroker.urls import Rule, first_broken
from obfbroker.zoom.links import NotAZoomLink, ZoomMeetingLink, parse_zoom_link

DEFAULT_BOT_NAME = "obfbroker bot"
MAX_BOT_NAME = 100
MAX_EXTRA_BYTES = 64 * 1024
# What makes a meeting link or a URL of the bot (token servers, callback, image) unusable.
URL_RULES = (Rule.EMPTY, Rule.TOO_LONG, Rule.WHITESPACE, Rule.UNPARSEABLE, Rule.NOT_ABSOLUTE,
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
# Fields of the bot object that obfbroker sets; a request cannot choose them.
READ_ONLY = {"bot_id", "status", "reason", "created_at", "updated_at", "status_history",
             "zoom_oauth_connection_user_id", "bot_status", "acting_for_zoom_user_id", "join_attempts",
             "tokens_minted", "next_attempt_at"}
JSON_TYPE_NAMES = {str: "a string", dict: "a JSON object", bool: "a boolean", list: "an array"}


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
    settings: dict[str, Any] = field(default_factory=dict)
    zoom: dict[str, Any] = field(default_factory=dict)


def _bad(detail: str, code: str) -> BadRequest:
    return BadRequest(detail, code=code)


MAX_CANDIDATES = 10
_USER_ID_HINT = "the zoom_user_id returned by POST /api/v1/zoom/oauth/connections"


def _candidate_user_ids(single: Any, several: Any) -> list[str]:
    """The authorizing users a hosted-OBF bot may act for, in the customer's order: the singular
    ``zoom_oauth_connection_user_id`` or the array ``zoom_oauth_connection_user_ids``."""
    if several is not None and single is not None:
        raise _bad("Send zoom.zoom_oauth_connection_user_id or zoom.zoom_oauth_connection_user_ids, "
                   "not both", "both_connection_user_id_fields")
    if several is None:
        if single is None or single == "":
            raise _bad("zoom.zoom_oauth_connection_user_id is required when zoom.use_zoom_obf=true",
                       "zoom_oauth_connection_user_id_required")
        if not isinstance(single, str) or len(single) > 200:
            raise _bad(f"zoom.zoom_oauth_connection_user_id must be a string: {_USER_ID_HINT}",
                       "invalid_zoom_oauth_connection_user_id")
        return [single]
    code = "invalid_zoom_oauth_connection_user_ids"
    if not isinstance(several, list) or not 1 <= len(several) <= MAX_CANDIDATES:
        raise _bad(f"zoom.zoom_oauth_connection_user_ids must be an array of 1 to {MAX_CANDIDATES} "
                   f"Zoom user ids ({_USER_ID_HINT}), in the order the bot should try them", code)
    for index, value in enumerate(several):
        if not isinstance(value, str) or not value or len(value) > 200:
            raise _bad(f"zoom.zoom_oauth_connection_user_ids[{index}] must be a non-empty string: "
                       f"{_USER_ID_HINT}", code)
        if value in several[:index]:
            raise _bad(f"zoom.zoom_oauth_connection_user_ids lists Zoom user {value} twice", code)
    return list(several)


def _https_url(value: Any, name: str) -> str:
    """An https URL (plain http only for loopback hosts): a URL we hand on, never connect to."""
    if not isinstance(value, str) or first_broken(value, HTTPS_URL_RULES) is not None:
        raise _bad(f"{name} must be an https URL", f"invalid_{name.replace('.', '_')}")
    return value


def _outbound_url(value: Any, name: str, policy: OutboundPolicy) -> str:
    """A URL we will connect to: well formed, and one the outbound policy lets us reach."""
    code = f"invalid_{name.replace('.', '_')}"
    if not isinstance(value, str) or first_broken(value, URL_RULES) is not None:
        raise _bad(f"{name} must be an https URL", code)
    problem = policy.check_url(value)
    if problem is not None:
        raise _bad(f"{name} must be an https URL" if problem.reason is UrlRefusal.PLAIN_HTTP
                   else f"{name} {problem.message}", code)
    return value


def _boolean(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise _bad(f"{name} must be a boolean (true or false)", f"invalid_{name}")
    return value


def _join_at(value: Any, now: datetime) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad("join_at must be an ISO 8601 timestamp with a timezone, e.g. 2026-12-01T15:00:00Z",
                   "invalid_join_at")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise _bad("join_at must be an ISO 8601 timestamp with a timezone, e.g. 2026-12-01T15:00:00Z",
                   "invalid_join_at")
    if when <= now:
        raise _bad("join_at must be in the future", "invalid_join_at")
    return when.astimezone(UTC)


def _deduplication_key(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_DEDUPLICATION_KEY:
        raise _bad(f"deduplication_key must be a non-empty string of at most {MAX_DEDUPLICATION_KEY} "
                   "characters", "invalid_deduplication_key")
    return value


def _meetstream_settings(body: dict[str, Any]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for name, value in body.items():
        if name in KNOWN:
            continue
        if name in READ_ONLY:
            raise _bad(f"{name} is set by obfbroker and cannot be sent", "read_only_field")
        expected = MEETSTREAM_FIELDS.get(name)
        if expected is not None and value is not None and not isinstance(value, expected):
            raise _bad(f"{name} must be {JSON_TYPE_NAMES[expected]}", f"invalid_{name}")
        settings[name] = value
    if "bot_image_url" in settings and settings["bot_image_url"] is not None:
        _https_url(settings["bot_image_url"], "bot_image_url")
    leave = settings.get("automatic_leave") or {}
    for key, seconds in leave.items():
        if isinstance(seconds, bool) or (isinstance(seconds, int | float) and seconds < 0):
            raise _bad(f"automatic_leave.{key} must be a non-negative number of seconds",
                       "invalid_automatic_leave")
    size = len(json.dumps(settings, separators=(",", ":")).encode())
    if size > MAX_EXTRA_BYTES:
        raise _bad(f"the extra bot settings are {size} bytes; at most {MAX_EXTRA_BYTES} are stored",
                   "payload_too_large")
    return settings


def parse_bot_request(body: Any, *, outbound: OutboundPolicy, now: datetime) -> BotRequest:
    """Check a create_bot body; raises a 400 naming the first problem found. ``outbound`` is the
    policy the URLs we will connect to (token servers, callback) are held to."""
    if not isinstance(body, dict):
        raise _bad("The request body must be a JSON object", "invalid_request")
    link = body.get("meeting_link")
    if link is None or link == "":
        raise _bad("meeting_link is required", "invalid_meeting_link")
    if not isinstance(link, str) or first_broken(link, URL_RULES) is not None:
        raise _bad("meeting_link must be a URL", "invalid_meeting_link")
    zoom = body.get("zoom", {})
    if zoom is None:
        zoom = {}
    if not isinstance(zoom, dict):
        raise _bad("zoom must be a JSON object", "invalid_zoom")
    use_obf = zoom.get("use_zoom_obf", False)
    if not isinstance(use_obf, bool):
        raise _bad("zoom.use_zoom_obf is invalid: it must be a JSON boolean (true or false), "
                   "not a string", "invalid_use_zoom_obf")
    try:
        zoom_link: ZoomMeetingLink | None = parse_zoom_link(link)
        link_problem = ""
    except NotAZoomLink as err:
        zoom_link, link_problem = None, str(err)
    custom_obf, custom_zak = zoom.get("obf_url"), zoom.get("zak_url")
    user_id = zoom.get("zoom_oauth_connection_user_id")
    if use_obf:
        if zoom_link is None:
            raise _bad(f"meeting_link must be a Zoom meeting URL: use_zoom_obf is only for Zoom links "
                       f"({link_problem})", "not_a_zoom_meeting_link")
        if zoom_link.meeting_number is None:
            raise _bad("meeting_link must include the meeting number for use_zoom_obf: personal "
                       "links (/my/<name>) cannot be used, use the meeting's /j/<number> link",
                       "meeting_number_required")
        if custom_obf is not None or custom_zak is not None:
            raise _bad("Do not send zoom.obf_url or zoom.zak_url with zoom.use_zoom_obf=true: hosted "
                       "Zoom auth supplies them", "custom_token_url_with_hosted_auth")
        user_ids = _candidate_user_ids(user_id, zoom.get("zoom_oauth_connection_user_ids"))
        user_id = user_ids[0]
    else:
        if custom_obf is not None and custom_zak is not None:
            raise _bad("Send either zoom.obf_url or zoom.zak_url, not both", "both_token_urls")
        if custom_obf is not None:
            custom_obf = _outbound_url(custom_obf, "zoom.obf_url", outbound)
        if custom_zak is not None:
            custom_zak = _outbound_url(custom_zak, "zoom.zak_url", outbound)
        if (custom_obf or custom_zak) and zoom_link is None:
            raise _bad(f"meeting_link must be a Zoom meeting URL to use a Zoom token server ({link_problem})",
                       "not_a_zoom_meeting_link")
        user_id, user_ids = None, []
    bot_name = body.get("bot_name", DEFAULT_BOT_NAME)
    if not isinstance(bot_name, str) or not bot_name.strip() or len(bot_name) > MAX_BOT_NAME:
        raise _bad(f"bot_name must be a non-empty string of at most {MAX_BOT_NAME} characters",
                   "invalid_bot_name")
    callback = body.get("callback_url")
    if callback is not None:
        callback = _outbound_url(callback, "callback_url", outbound)
    attributes = body.get("custom_attributes", {})
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, dict):
        raise _bad("custom_attributes must be a JSON object", "invalid_custom_attributes")
    echoed_zoom = {"use_zoom_obf": use_obf}
    if use_obf and "zoom_oauth_connection_user_ids" in zoom:
        echoed_zoom["zoom_oauth_connection_user_ids"] = user_ids
    elif use_obf:
        echoed_zoom["zoom_oauth_connection_user_id"] = user_id
    if custom_obf:
        echoed_zoom["obf_url"] = custom_obf
    if custom_zak:
        echoed_zoom["zak_url"] = custom_zak
    return BotRequest(
        meeting_link=link, zoom_link=zoom_link, bot_name=bot_name.strip(),
        audio_required=_boolean(body, "audio_required", True),
        video_required=_boolean(body, "video_required", True),
        use_zoom_obf=use_obf, connection_user_id=user_id, connection_user_ids=user_ids,
        custom_obf_url=custom_obf,
        custom_zak_url=custom_zak, callback_url=callback, custom_attributes=attributes,
        join_at=_join_at(body.get("join_at"), now),
        deduplication_key=_deduplication_key(body.get("deduplication_key")),
        settings=_meetstream_settings(body),
        zoom=echoed_zoom,
    )
