"""Token links: a URL per bot platform that mints Zoom tokens for one connection, and the log of
every call made to it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from obfbroker.db.base import Base, UTCDateTime, created_at_column, encrypted_column, utcnow


class Platform(StrEnum):
    """The bot platforms whose token-URL dialect a link speaks (docs/platforms.md)."""

    MEETSTREAM = "meetstream"
    RECALL = "recall"
    ATTENDEE = "attendee"
    MEETINGBAAS = "meetingbaas"


class TokenType(StrEnum):
    """What a link may mint: an OBF token, a ZAK token, a local-recording join token."""

    ONBEHALF = "onbehalf"
    ZAK = "zak"
    LOCAL_RECORDING = "local_recording"


class LinkKind(StrEnum):
    """The URLs a link has (the last part of its path): one token each, or Attendee's bundle."""

    OBF = "obf"
    ZAK = "zak"
    JOIN_TOKEN = "join_token"
    TOKENS = "tokens"


class LinkState(StrEnum):
    """Whether a link mints; every state but ``active`` answers 410 with its message."""

    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"
    USED_UP = "used_up"

    @property
    def refusal(self) -> str:
        return LINK_STATE_REFUSALS[self]

    @property
    def code(self) -> str:
        return f"token_link_{self.value}"

    @classmethod
    def of(cls, *, revoked_at: datetime | None, expires_at: datetime | None, max_uses: int | None,
           uses: int, now: datetime) -> LinkState:
        if revoked_at is not None:
            return cls.REVOKED
        if expires_at is not None and expires_at <= now:
            return cls.EXPIRED
        if max_uses is not None and uses >= max_uses:
            return cls.USED_UP
        return cls.ACTIVE


LINK_STATE_REFUSALS = {
    LinkState.ACTIVE: "",
    LinkState.REVOKED: "This token link was revoked; create a new one",
    LinkState.EXPIRED: "This token link has expired; create a new one",
    LinkState.USED_UP: "This token link has used all its max_uses; create a new one",
}


class UseStatus(StrEnum):
    MINTED = "minted"
    REFUSED = "refused"


class RevokedReason(StrEnum):
    REVOKED = "revoked"  # DELETE /api/v1/zoom/token-links/{id}
    CONNECTION_DELETED = "connection_deleted"  # its connection was erased


# What a use's token_type says for Attendee's one call that mints several tokens.
BUNDLE = "bundle"


class TokenLink(Base):
    __tablename__ = "token_links"
    __table_args__ = (
        Index("ix_token_links_account_created", "account_id", "created_at", "id"),
        Index("ix_token_links_account_user_created", "account_id", "zoom_user_id", "created_at", "id"),
        Index("ix_token_links_account_platform_created", "account_id", "platform", "created_at", "id"),
    )

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    # None once the connection is erased (the link is revoked then; zoom_user_id stays).
    connection_id: Mapped[str | None] = mapped_column(
        ForeignKey("zoom_connections.id", ondelete="SET NULL"), nullable=True, index=True)
    zoom_user_id: Mapped[str] = mapped_column(String(200), nullable=False)
    platform: Mapped[str] = mapped_column(String(20), nullable=False)
    meeting_link: Mapped[str | None] = mapped_column(Text, nullable=True)
    meeting_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    token_types: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    max_uses: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Successful calls (a call being minted holds its place here until it fails or succeeds).
    uses: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, nullable=False, default=dict)
    # Keyed hash (the deployment's hashing key) of the secret the URLs carry; never the secret.
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    # Attendee: the project's webhook secret, as Attendee shows it (base64), sealed.
    platform_secret: Mapped[str | None] = encrypted_column()
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)


class TokenLinkUse(Base):
    """One call to a link: what it asked for, what came of it. Calls that fail authentication
    are not recorded (nothing ties them to the link's owner)."""

    __tablename__ = "token_link_uses"
    __table_args__ = (
        # Newest first per link, and the rate limit's count of the last minute.
        Index("ix_token_link_uses_link_at", "link_id", "at", "id"),
    )

    link_id: Mapped[str] = mapped_column(ForeignKey("token_links.id", ondelete="CASCADE"), nullable=False)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    token_type: Mapped[str] = mapped_column(String(20), nullable=False)
    minted: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    meeting_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    platform_bot_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    code: Mapped[str | None] = mapped_column(String(60), nullable=True)
