"""Typed, immutable results of the obfbroker client.

Each object keeps the whole JSON answer in ``raw`` (fields this client version does not know,
such as the MeetStream bot settings you sent, included). Timestamps are timezone-aware
:class:`datetime.datetime` objects in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

__all__ = [
    "Bot",
    "BotEvent",
    "BotStatus",
    "Connection",
    "ConnectionDeleted",
    "LastError",
    "Page",
    "ReconnectUrl",
    "TokenLink",
    "TokenLinkCreated",
    "TokenLinkPlatform",
    "TokenLinkRevoked",
    "TokenLinkTokenType",
    "TokenLinkUse",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookRetry",
    "ZoomApp",
]

T = TypeVar("T")

FINISHED_BOT_STATUSES = frozenset({"ended", "failed"})


def parse_time(value: Any) -> datetime | None:
    """An API timestamp (ISO 8601, ``Z`` suffix) as an aware datetime; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        text = str(value).strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _required_time(value: Any) -> datetime:
    parsed = parse_time(value)
    if parsed is None:
        raise ValueError("timestamp missing")
    return parsed


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list. Iterate it for its items; pass ``next_cursor`` as ``cursor`` for the
    next page (``None`` on the last page)."""

    items: tuple[T, ...]
    next_cursor: str | None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> T:
        return self.items[index]

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


@dataclass(frozen=True)
class ZoomApp:
    """One of the account's Zoom apps, without the secrets (which are write-only). ``app_id``
    names it in the calls that take one; ``is_default`` says whether it is the account's default."""

    client_id: str
    has_client_secret: bool
    has_webhook_secret_token: bool
    webhook_url: str
    created_at: datetime
    updated_at: datetime
    raw: dict[str, Any] = field(repr=False, compare=False)
    app_id: str = ""
    name: str = ""
    kind: str = "user_managed"
    is_default: bool = True
    scopes: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ZoomApp:
        return cls(
            app_id=data.get("app_id", ""), name=data.get("name") or "",
            kind=data.get("kind") or "user_managed",
            is_default=bool(data.get("is_default", True)), scopes=tuple(data.get("scopes") or ()),
            client_id=data["client_id"], has_client_secret=bool(data.get("has_client_secret")),
            has_webhook_secret_token=bool(data.get("has_webhook_secret_token")),
            webhook_url=data.get("webhook_url", ""), created_at=_required_time(data["created_at"]),
            updated_at=_required_time(data["updated_at"]), raw=dict(data),
        )


@dataclass(frozen=True)
class LastError:
    """The last failed refresh or token mint of a connection, kept after it recovers (``at``
    says how old it is). ``code`` is stable (``zoom_unavailable``, ``zoom_rate_limited``,
    ``app_credentials_rejected``, ``app_not_configured``, ``refresh_token_invalid``,
    ``app_deauthorized``, ``deleted_at_zoom``); ``message`` is for people."""

    code: str
    message: str
    at: datetime

    @classmethod
    def from_json(cls, data: Any) -> LastError | None:
        if not data:
            return None
        return cls(code=data["code"], message=data.get("message", ""), at=_required_time(data["at"]))


@dataclass(frozen=True)
class Connection:
    """One end-user's Zoom OAuth connection (the guide's fields, no token material).

    The health fields (``last_refreshed_at`` ... ``reconnect_hint``) are filled on reads
    (get, list, update); connection-create answers only the guide's fields, so they are
    ``None`` there. ``disconnected_reason`` is ``refresh_token_invalid``, ``app_deauthorized``
    or ``deleted_at_zoom``; ``reconnect_hint`` says, in words, what happened and what to do
    next (see :meth:`ObfBrokerClient.reconnect_url`).
    """

    zoom_user_id: str
    zoom_account_id: str
    email: str
    display_name: str
    metadata: dict[str, Any]
    state: str
    created_at: datetime
    updated_at: datetime
    has_refresh_token: bool
    last_refreshed_at: datetime | None = None
    refresh_token_expires_hint: datetime | None = None
    disconnected_reason: str | None = None
    disconnected_at: datetime | None = None
    last_error: LastError | None = None
    reconnect_hint: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def connected(self) -> bool:
        return self.state == "connected"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Connection:
        return cls(
            zoom_user_id=data["zoom_user_id"], zoom_account_id=data.get("zoom_account_id", ""),
            email=data.get("email", ""), display_name=data.get("display_name", ""),
            metadata=dict(data.get("metadata") or {}), state=data["state"],
            created_at=_required_time(data["created_at"]), updated_at=_required_time(data["updated_at"]),
            has_refresh_token=bool(data.get("has_refresh_token")),
            last_refreshed_at=parse_time(data.get("last_refreshed_at")),
            refresh_token_expires_hint=parse_time(data.get("refresh_token_expires_hint")),
            disconnected_reason=data.get("disconnected_reason"),
            disconnected_at=parse_time(data.get("disconnected_at")),
            last_error=LastError.from_json(data.get("last_error")),
            reconnect_hint=data.get("reconnect_hint"), raw=dict(data),
        )


@dataclass(frozen=True)
class ConnectionDeleted:
    """The answer to delete_connection: the grant was revoked at Zoom and the connection erased."""

    zoom_user_id: str
    message: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConnectionDeleted:
        return cls(zoom_user_id=data["zoom_user_id"], message=data.get("message", ""), raw=dict(data))


@dataclass(frozen=True)
class ReconnectUrl:
    """The answer to reconnect_url: send the end-user's browser to ``authorize_url``. Your
    callback then gets ``state`` back; pass it to create_connection, which refuses a different
    Zoom user (409 ``reconnected_other_user``) unless you allow it. Valid until ``expires_at``."""

    authorize_url: str
    state: str
    expires_at: datetime
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReconnectUrl:
        return cls(authorize_url=data["authorize_url"], state=data["state"],
                   expires_at=_required_time(data["expires_at"]), raw=dict(data))


@dataclass(frozen=True)
class BotEvent:
    """One entry of a bot's status timeline."""

    status: str
    reason: str | None
    at: datetime
    #: Hosted OBF: the Zoom user the bot was in the meeting for at this point.
    acting_for_zoom_user_id: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BotEvent:
        return cls(status=data["status"], reason=data.get("reason"), at=_required_time(data["at"]),
                   acting_for_zoom_user_id=data.get("acting_for_zoom_user_id"))


_BOT_FIELDS = frozenset({
    "bot_id", "status", "reason", "meeting_link", "bot_name", "audio_required", "video_required",
    "zoom", "zoom_oauth_connection_user_id", "callback_url", "custom_attributes", "join_at",
    "created_at", "updated_at", "status_history", "bot_status", "deduplication_key",
    "acting_for_zoom_user_id", "join_attempts", "tokens_minted", "next_attempt_at",
})


@dataclass(frozen=True)
class Bot:
    """A bot and its status timeline (oldest first). Extra fields you sent at create time
    (``bot_message``, ``automatic_leave``, ...) are in ``extras`` and ``raw``."""

    bot_id: str
    status: str
    reason: str | None
    meeting_link: str
    bot_name: str
    audio_required: bool
    video_required: bool
    zoom: dict[str, Any]
    zoom_oauth_connection_user_id: str | None
    callback_url: str | None
    custom_attributes: dict[str, Any]
    join_at: datetime | None
    created_at: datetime
    updated_at: datetime
    status_history: tuple[BotEvent, ...]
    #: MeetStream's status (``Joining`` ... ``Stopped``, ``NotAllowed``, ``Denied``, ``Error``).
    bot_status: str | None = None
    deduplication_key: str | None = None
    #: Hosted OBF: the Zoom user the bot is in the meeting for, once admitted.
    acting_for_zoom_user_id: str | None = None
    join_attempts: int = 0
    tokens_minted: int = 0
    #: While the bot waits between join attempts: when it tries next.
    next_attempt_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def finished(self) -> bool:
        """Whether the bot reached a final status (``ended`` or ``failed``)."""
        return self.status in FINISHED_BOT_STATUSES

    @property
    def extras(self) -> dict[str, Any]:
        """Top-level fields this client does not model, as the API returned them."""
        return {k: v for k, v in self.raw.items() if k not in _BOT_FIELDS}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Bot:
        return cls(
            bot_id=data["bot_id"], status=data["status"], reason=data.get("reason"),
            meeting_link=data.get("meeting_link", ""), bot_name=data.get("bot_name", ""),
            audio_required=bool(data.get("audio_required")), video_required=bool(data.get("video_required")),
            zoom=dict(data.get("zoom") or {}),
            zoom_oauth_connection_user_id=data.get("zoom_oauth_connection_user_id"),
            callback_url=data.get("callback_url"),
            custom_attributes=dict(data.get("custom_attributes") or {}),
            join_at=parse_time(data.get("join_at")), created_at=_required_time(data["created_at"]),
            updated_at=_required_time(data["updated_at"]),
            status_history=tuple(BotEvent.from_json(e) for e in data.get("status_history") or ()),
            bot_status=data.get("bot_status"), deduplication_key=data.get("deduplication_key"),
            acting_for_zoom_user_id=data.get("acting_for_zoom_user_id"),
            join_attempts=int(data.get("join_attempts") or 0),
            tokens_minted=int(data.get("tokens_minted") or 0),
            next_attempt_at=parse_time(data.get("next_attempt_at")), raw=dict(data),
        )


@dataclass(frozen=True)
class BotStatus:
    """A bot's current status alone (``GET /api/v1/bots/{bot_id}/status``)."""

    bot_id: str
    status: str
    reason: str | None
    #: MeetStream's status (``Joining`` ... ``Stopped``, ``NotAllowed``, ``Denied``, ``Error``).
    bot_status: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_BOT_STATUSES

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BotStatus:
        return cls(bot_id=data["bot_id"], status=data["status"], reason=data.get("reason"),
                   bot_status=data.get("bot_status"), raw=dict(data))


@dataclass(frozen=True)
class WebhookEndpoint:
    """The account's webhook endpoint. ``secret`` (``whsec_...``) is set only on the answer to
    put_webhook, the one time the API shows it; it is never part of ``repr``."""

    url: str
    created_at: datetime
    updated_at: datetime
    secret: str | None = field(default=None, repr=False)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WebhookEndpoint:
        return cls(url=data["url"], created_at=_required_time(data["created_at"]),
                   updated_at=_required_time(data["updated_at"]), secret=data.get("secret"), raw=dict(data))


@dataclass(frozen=True)
class WebhookDelivery:
    """One delivery attempt of a webhook message."""

    id: str
    message_id: str
    event_type: str
    #: "webhook_endpoint", or "callback_url" for a bot's callback
    target: str
    attempt: int
    attempted_at: datetime
    succeeded: bool
    response_status: int | None
    error: str | None
    response_body: str | None
    duration_ms: int
    message_status: str
    next_attempt_at: datetime | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WebhookDelivery:
        return cls(
            id=data["id"], message_id=data["message_id"], event_type=data.get("event_type", ""),
            target=data.get("target", "webhook_endpoint"), attempt=int(data.get("attempt", 0)),
            attempted_at=_required_time(data["attempted_at"]),
            succeeded=bool(data.get("succeeded")), response_status=data.get("response_status"),
            error=data.get("error"), response_body=data.get("response_body"),
            duration_ms=int(data.get("duration_ms") or 0), message_status=data.get("message_status", ""),
            next_attempt_at=parse_time(data.get("next_attempt_at")), raw=dict(data),
        )


@dataclass(frozen=True)
class WebhookRetry:
    """The answer to retry_webhook_delivery: the message is queued again."""

    message_id: str
    status: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WebhookRetry:
        return cls(message_id=data["message_id"], status=data.get("status", ""), raw=dict(data))


#: The bot platforms a token link can speak for (the dialect its URLs answer in).
TokenLinkPlatform = Literal["meetstream", "recall", "attendee", "meetingbaas"]
#: What a token link may mint.
TokenLinkTokenType = Literal["onbehalf", "zak", "local_recording"]


@dataclass(frozen=True)
class TokenLink:
    """A token link as reads and lists show it: never its URLs, which hold its secret and are
    shown once, in :class:`TokenLinkCreated`.

    ``state`` is ``active``, or why the link answers 410: ``revoked``, ``expired`` or
    ``used_up``; ``revoked_reason`` is ``revoked`` (revoke_token_link) or ``connection_deleted``.
    ``uses`` counts the successful calls; ``meeting_number`` is the meeting ``meeting_link``
    binds the link to."""

    id: str
    zoom_user_id: str
    platform: str
    meeting_link: str | None
    meeting_number: str | None
    token_types: tuple[str, ...]
    expires_at: datetime | None
    max_uses: int | None
    uses: int
    metadata: dict[str, Any]
    has_platform_secret: bool
    state: str
    created_at: datetime
    updated_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def active(self) -> bool:
        """Whether a call to the link can mint (every other state answers 410)."""
        return self.state == "active"

    @classmethod
    def _fields(cls, data: dict[str, Any]) -> dict[str, Any]:
        return dict(
            id=data["id"], zoom_user_id=data["zoom_user_id"], platform=data["platform"],
            meeting_link=data.get("meeting_link"), meeting_number=data.get("meeting_number"),
            token_types=tuple(data.get("token_types") or ()), expires_at=parse_time(data.get("expires_at")),
            max_uses=data.get("max_uses"), uses=int(data.get("uses") or 0),
            metadata=dict(data.get("metadata") or {}),
            has_platform_secret=bool(data.get("has_platform_secret")), state=data["state"],
            created_at=_required_time(data["created_at"]), updated_at=_required_time(data["updated_at"]),
            last_used_at=parse_time(data.get("last_used_at")), revoked_at=parse_time(data.get("revoked_at")),
            revoked_reason=data.get("revoked_reason"),
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TokenLink:
        return cls(**cls._fields(data), raw=dict(data))


@dataclass(frozen=True)
class TokenLinkCreated(TokenLink):
    """The answer to create_token_link: the link and its ``urls``, one per kind it allows
    (``obf``, ``zak``, ``join_token``; Attendee's ``tokens``). Each URL carries the link's
    secret and this is the only answer that ever holds them: give them to the platform now.
    They are credentials, so they are never part of ``repr`` or ``str`` (nor is ``raw``)."""

    urls: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def obf_url(self) -> str | None:
        """The URL minting OBF (onbehalf) tokens, if the link has one."""
        return self.urls.get("obf")

    @property
    def zak_url(self) -> str | None:
        """The URL minting ZAK tokens, if the link has one."""
        return self.urls.get("zak")

    @property
    def join_token_url(self) -> str | None:
        """The URL minting local-recording join tokens (Recall.ai), if the link has one."""
        return self.urls.get("join_token")

    @property
    def tokens_url(self) -> str | None:
        """Attendee's one URL, answering every token the link allows."""
        return self.urls.get("tokens")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TokenLinkCreated:
        urls = data["urls"]
        if not isinstance(urls, dict):
            raise TypeError("urls must be an object")
        return cls(**cls._fields(data), urls={str(k): str(v) for k, v in urls.items()}, raw=dict(data))


@dataclass(frozen=True)
class TokenLinkRevoked:
    """The answer to revoke_token_link: every call to the link answers 410 from now on."""

    id: str
    message: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TokenLinkRevoked:
        return cls(id=data["id"], message=data.get("message", ""), raw=dict(data))


@dataclass(frozen=True)
class TokenLinkUse:
    """One call to a token link that passed its authentication, minted or refused.

    ``token_type`` is what the call asked for (``bundle`` for Attendee's one call for several
    tokens), ``minted`` what it got; ``meeting_number`` and ``platform_bot_id`` are the meeting
    and the platform's bot when the call named them; ``code`` is the error code of a refusal."""

    at: datetime
    token_type: str
    minted: tuple[str, ...]
    meeting_number: str | None
    platform_bot_id: str | None
    status: str
    code: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def refused(self) -> bool:
        return self.status == "refused"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TokenLinkUse:
        return cls(at=_required_time(data["at"]), token_type=data["token_type"],
                   minted=tuple(data.get("minted") or ()), meeting_number=data.get("meeting_number"),
                   platform_bot_id=data.get("platform_bot_id"), status=data["status"], code=data.get("code"),
                   raw=dict(data))
