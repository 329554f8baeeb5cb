"""Each bot platform's token-URL dialect (../shared/spec/bot-platforms.md, docs/platforms.md):
which URLs its links get, the token types it may mint, where a call names its meeting and its
bot, and how Attendee signs its calls.

Everything here is pure: it reads a request's parts and says what they mean, and never touches
the database or Zoom.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from obfbroker.errors import BadRequest, Unauthorized
from obfbroker.token_links.models import BUNDLE, LinkKind, Platform, TokenType
from obfbroker.zoom.links import NotAZoomLink, parse_zoom_link

MAX_BOT_ID = 200
MAX_MEETING_DIGITS = 20
ATTENDEE_SECRET_BYTES = 32


@dataclass(frozen=True)
class Dialect:
    platform: Platform
    # The URLs a link of this platform may have, and the token each one mints (Attendee's one
    # URL mints a bundle: the link's token types together).
    kinds: dict[LinkKind, TokenType | str]
    allowed: frozenset[TokenType]
    default: tuple[TokenType, ...]
    # Token types a link of this platform must allow.
    required: frozenset[TokenType] = frozenset()
    # The platform's bot may call with POST (MeetStream's fallback, Attendee's only method).
    accepts_post: bool = False


DIALECTS = {
    Platform.MEETSTREAM: Dialect(
        Platform.MEETSTREAM, {LinkKind.OBF: TokenType.ONBEHALF, LinkKind.ZAK: TokenType.ZAK},
        frozenset({TokenType.ONBEHALF, TokenType.ZAK}), (TokenType.ONBEHALF, TokenType.ZAK),
        accepts_post=True),
    Platform.RECALL: Dialect(
        Platform.RECALL, {LinkKind.OBF: TokenType.ONBEHALF, LinkKind.ZAK: TokenType.ZAK,
                          LinkKind.JOIN_TOKEN: TokenType.LOCAL_RECORDING},
        frozenset(TokenType), (TokenType.ONBEHALF, TokenType.ZAK, TokenType.LOCAL_RECORDING)),
    Platform.ATTENDEE: Dialect(
        Platform.ATTENDEE, {LinkKind.TOKENS: BUNDLE}, frozenset(TokenType),
        (TokenType.ONBEHALF, TokenType.LOCAL_RECORDING), required=frozenset({TokenType.ONBEHALF}),
        accepts_post=True),
    Platform.MEETINGBAAS: Dialect(
        Platform.MEETINGBAAS, {LinkKind.OBF: TokenType.ONBEHALF}, frozenset({TokenType.ONBEHALF}),
        (TokenType.ONBEHALF,)),
}


def link_kinds(platform: Platform, token_types: list[str]) -> list[LinkKind]:
    """The URLs a link gets: those of its platform whose token type the link allows."""
    return [kind for kind, minted in DIALECTS[platform].kinds.items()
            if minted == BUNDLE or minted in token_types]


def meeting_number(value: Any, *, field: str) -> str:
    """A meeting number as a call names it: digits (an integer is taken as its digits)."""
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not (text.isascii() and text.isdigit() and len(text) <= MAX_MEETING_DIGITS):
        raise BadRequest(f"{field} must be the meeting's digits", code="invalid_meeting_number")
    return text


def bot_id(value: Any) -> str | None:
    """What a platform sent as its bot's id, kept for the use log when it is a short printable
    string (anything else is left out, never refused: it only labels the call)."""
    if isinstance(value, str) and 0 < len(value) <= MAX_BOT_ID and value.isprintable():
        return value
    return None


@dataclass(frozen=True)
class CallParts:
    """What a call says about itself: the meeting it names (None: none), the platform's bot."""

    meeting_number: str | None = None
    platform_bot_id: str | None = None


def _query_meeting(query: Any, name: str) -> str | None:
    value = query.get(name)
    return None if value in (None, "") else meeting_number(value, field=name)


def meetstream_call(query: Any, headers: Any, body: dict[str, Any] | None) -> CallParts:
    """MeetStream: ``meeting_number`` in the query (GET) or the JSON body (the POST fallback),
    the bot in ``X-Bot-Id`` (or the body's ``bot_id``)."""
    if body is not None:
        number = body.get("meeting_number")
        return CallParts(None if number in (None, "") else meeting_number(number, field="meeting_number"),
                         bot_id(body.get("bot_id")) or bot_id(headers.get("x-bot-id")))
    return CallParts(_query_meeting(query, "meeting_number"), bot_id(headers.get("x-bot-id")))


def recall_call(query: Any) -> CallParts:
    """Recall.ai calls the URL exactly as given: a meeting only in ``meeting_id``, if the
    customer added one; no bot id."""
    return CallParts(_query_meeting(query, "meeting_id"))


def meetingbaas_call(query: Any) -> CallParts:
    """Meeting BaaS appends ``bot_id`` and ``extra`` (the bot request's JSON); the meeting is
    ``meeting_id`` in the URL, else ``meeting_number`` inside ``extra``."""
    number = _query_meeting(query, "meeting_id")
    if number is None and query.get("extra"):
        try:
            extra = json.loads(query["extra"])
        except ValueError:
            raise BadRequest("extra must be the bot's extra object as JSON", code="invalid_request") from None
        if isinstance(extra, dict) and extra.get("meeting_number") not in (None, ""):
            number = meeting_number(extra["meeting_number"], field="extra.meeting_number")
    return CallParts(number, bot_id(query.get("bot_id")))


def attendee_call(body: dict[str, Any]) -> CallParts:
    """Attendee: the meeting is the number in ``meeting_url``; the bot is ``bot_id``."""
    url = body.get("meeting_url")
    number = None
    if isinstance(url, str) and url:
        try:
            number = parse_zoom_link(url).meeting_number
        except NotAZoomLink:
            raise BadRequest("meeting_url is not a Zoom meeting link",
                             code="invalid_meeting_number") from None
    return CallParts(number, bot_id(body.get("bot_id")))


def attendee_key(platform_secret: str) -> bytes:
    """The HMAC key Attendee signs with: its project's webhook secret, which its dashboard shows
    base64-encoded (32 random bytes)."""
    try:
        key = base64.b64decode(platform_secret.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("platform_secret must be the Attendee project's webhook secret as Attendee shows "
                         "it (base64)", code="invalid_platform_secret") from None
    if len(key) != ATTENDEE_SECRET_BYTES:
        raise BadRequest(f"platform_secret must decode to {ATTENDEE_SECRET_BYTES} bytes, as Attendee's "
                         f"webhook secrets do (this one is {len(key)})", code="invalid_platform_secret")
    return key


def attendee_signature(body: Any, key: bytes) -> str:
    """Attendee's ``X-Webhook-Signature`` of a body: base64 of HMAC-SHA256 over the body as JSON
    with sorted keys, no spaces and no ASCII escaping (not over the bytes sent)."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(hmac.new(key, canonical.encode(), hashlib.sha256).digest()).decode()


def check_attendee_signature(body: Any, signature: str | None, key: bytes) -> None:
    if not signature or not hmac.compare_digest(signature.strip().encode(),
                                                attendee_signature(body, key).encode()):
        raise Unauthorized("X-Webhook-Signature does not match the body signed with the link's "
                           "platform_secret", code="invalid_signature")
