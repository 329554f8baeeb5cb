"""Bots: the queue of meeting joins, and each bot's status timeline."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from obfbroker.db.base import Base, UTCDateTime, created_at_column, utcnow


class BotStatus(StrEnum):
    QUEUED = "queued"
    JOINING = "joining"
    WAITING_FOR_AUTHORIZING_USER = "waiting_for_authorizing_user"
    IN_MEETING = "in_meeting"
    LEAVING = "leaving"
    ENDED = "ended"
    FAILED = "failed"


FINISHED = frozenset({BotStatus.ENDED, BotStatus.FAILED})


class BotReason(StrEnum):
    """Why a bot ended or failed: its ``reason``. What MeetStream's clients are told for each is
    beside the wording of the statuses, in ``bots.meetstream``."""

    # ended: the bot was in the meeting (or was asked to leave before it got in)
    LEFT_BY_REQUEST = "left_by_request"
    AUTHORIZING_USER_LEFT = "authorizing_user_left"  # OBF: Zoom removes the bot with its user
    MEETING_ENDED = "meeting_ended"  # also a failure: the meeting ended before the bot got in
    LEFT = "left"
    REMOVED = "removed"  # by the host
    # failed: the bot never got in, or could not stay
    AUTHORIZING_USER_NEVER_JOINED = "authorizing_user_never_joined"
    JOIN_DENIED = "join_denied"
    CONNECTION_DISCONNECTED = "connection_disconnected"
    OBF_TOKEN_UNAVAILABLE = "obf_token_unavailable"
    JOIN_TIMEOUT = "join_timeout"
    MEETING_NOT_FOUND = "meeting_not_found"
    OBF_TOKEN_INVALID = "obf_token_invalid"
    OBF_TOKEN_NOT_MATCH_MEETING = "obf_token_not_match_meeting"
    ZAK_TOKEN_INVALID = "zak_token_invalid"
    WRONG_PASSCODE = "wrong_passcode"
    SDK_AUTH_FAILED = "sdk_auth_failed"
    SDK_UNAVAILABLE = "sdk_unavailable"
    JOIN_FAILED = "join_failed"
    ZOOM_APP_NOT_CONFIGURED = "zoom_app_not_configured"
    MEETING_NUMBER_REQUIRED = "meeting_number_required"
    INTERNAL_ERROR = "internal_error"


class TokenSource(StrEnum):
    HOSTED = "hosted"   # our token server mints for the connection the bot acts for
    CUSTOM = "custom"   # the customer's own obf_url / zak_url
    NONE = "none"       # joins without an OBF/ZAK token


class Bot(Base):
    __tablename__ = "bots"
    __table_args__ = (
        Index("ix_bots_account_created", "account_id", "created_at", "id"),
        Index("ix_bots_status_join_at", "status", "join_at"),
        Index("ix_bots_status_lease", "status", "lease_expires_at"),
        # At most one unfinished bot per deduplication_key: the key is copied here at creation and
        # cleared when the bot finishes, and NULLs never collide.
        UniqueConstraint("account_id", "active_deduplication_key"),
    )

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    status: Mapped[str] = mapped_column(String(40), nullable=False, default=BotStatus.QUEUED)
    meeting_link: Mapped[str] = mapped_column(Text, nullable=False)
    meeting_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    passcode: Mapped[str | None] = mapped_column(String(200), nullable=True)
    vanity_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    bot_name: Mapped[str] = mapped_column(String(200), nullable=False)
    audio_required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    video_required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    callback_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    custom_attributes: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    # Other MeetStream-compatible fields, stored as sent and echoed back.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    zoom: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    # Hosted OBF: the first authorizing user's connection; candidate_connection_ids lists every
    # candidate in the customer's order (connection_id included, first).
    connection_id: Mapped[str | None] = mapped_column(
        ForeignKey("zoom_connections.id", ondelete="SET NULL"), nullable=True, index=True)
    candidate_connection_ids: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    # The Zoom user the bot is in the meeting for (hosted OBF), once Zoom admitted it.
    acting_for_zoom_user_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    token_source: Mapped[str] = mapped_column(String(20), nullable=False, default=TokenSource.NONE)
    # For the runner only (never in a response): where the bot fetches its Zoom token.
    obf_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    zak_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    join_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(60), nullable=True)
    # The runner's claim: which worker runs the bot, until when (renewed while it runs).
    lease_owner: Mapped[str | None] = mapped_column(String(80), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    leave_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The adapter's id for the bot in the meeting, so a worker taking over can clean it up.
    adapter_session_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    join_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    tokens_minted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # While the runner waits between join attempts: when it tries next.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    deduplication_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    active_deduplication_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # callback_url deliveries: the bot_status last announced, and how many were queued (their order).
    callback_bot_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    callback_sequence: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class BotEvent(Base):
    """One entry of a bot's status timeline."""

    __tablename__ = "bot_events"
    __table_args__ = (Index("ix_bot_events_bot_at", "bot_id", "at"),)

    bot_id: Mapped[str] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), nullable=False)
    status: Mapped[str] = mapped_column(String(40), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(60), nullable=True)
    acting_for_zoom_user_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
