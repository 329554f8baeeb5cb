"""The outbox's rows: the account's webhook endpoint (an event is stored only when there is
one) and the messages waiting to be sent."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from obfbroker.db.base import Base, UTCDateTime, created_at_column, encrypted_column, utcnow


class MessageStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookEndpoint(Base):
    """The one URL an account receives events at, and its signing secret (sealed)."""

    __tablename__ = "webhook_endpoints"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    url: Mapped[str] = mapped_column(Text, nullable=False)
    secret: Mapped[str | None] = encrypted_column(nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class WebhookMessage(Base):
    """One event for one account: written in the transaction of the change that caused it,
    sent until a 2xx or until ``expires_at``. ``payload`` is the exact body sent every time."""

    __tablename__ = "webhook_messages"
    __table_args__ = (
        # Claiming due messages is a range scan: status = 'pending' AND next_attempt_at <= now.
        Index("ix_webhook_messages_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_webhook_messages_account_status", "account_id", "status"),
        Index("ix_webhook_messages_stream", "stream_key", "stream_sequence"),
        Index("ix_webhook_messages_account_subject", "account_id", "subject_id"),
    )

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    # Set for a bot's callback_url deliveries; None: the account's webhook endpoint.
    target_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Messages of one stream (a bot's callbacks) are sent one at a time, in stream_sequence order.
    stream_key: Mapped[str | None] = mapped_column(String(40), nullable=True)
    stream_sequence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The row the event is about (a connection's id), so erasing it can scrub its events.
    subject_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=MessageStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # When pending: the next send, or the end of a worker's lease while it is sending.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
