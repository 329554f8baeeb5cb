"""One Zoom OAuth connection per (account, Zoom user), its searchable metadata, reconnect
intents, and code-exchange receipts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from obfbroker.db.base import Base, UTCDateTime, created_at_column, encrypted_column, utcnow
from obfbroker.enums import FactEnum


class ConnectionState(StrEnum):
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


class DisconnectReason(FactEnum):
    """Why Zoom no longer lets us act for the user (stable codes, documented in docs/api.md).
    A connection the customer deletes is erased, so it has no reason: it is gone."""

    # Each reason carries what ``last_error.message`` says and the ``reconnect_hint`` template
    # (``{link}``: the reconnect-url endpoint, ``{id}``: the Zoom user id), so a reason without
    # them cannot be written: the member would not construct. (A comment, not the docstring: the
    # docstring is the OpenAPI document's description of the enum.)
    message: str
    hint: str

    REFRESH_TOKEN_INVALID = (
        "refresh_token_invalid",
        "Zoom rejected the refresh token (invalid_grant): the user changed their password, "
        "removed the app, or left it unused for about 90 days",
        "Zoom no longer accepts this connection's refresh token (password changed, app removed, "
        "or unused for about 90 days). Send the user a reconnect link from {link}; once they "
        "authorize again the connection works as before, with the same id and metadata.")
    APP_DEAUTHORIZED = (
        "app_deauthorized",
        "The user removed the app from their Zoom account (Zoom's app_deauthorized event)",
        "The user removed the app from their Zoom account, and Zoom revoked its access. Only "
        "they can allow it again: send them a reconnect link from {link}.")
    DELETED_AT_ZOOM = (
        "deleted_at_zoom",
        "Zoom says the user does not exist any more (HTTP 404, code 1001)",
        "Zoom says this user no longer exists, so this connection cannot work again. Delete it "
        "(DELETE /api/v1/zoom/oauth/connections/{id}); if the person has a new Zoom user, send "
        "them a link from {link} or the usual authorize-url.")


class FailureCode(StrEnum):
    """Why a refresh or mint failed while the connection stays connected: ``last_error.code``
    (with the ``DisconnectReason`` codes, which a disconnection records)."""

    ZOOM_UNAVAILABLE = "zoom_unavailable"  # timeouts and 5xx, retried, then given up (transient)
    ZOOM_RATE_LIMITED = "zoom_rate_limited"  # 429, retried, then given up (transient)
    APP_CREDENTIALS_REJECTED = "app_credentials_rejected"  # Zoom: invalid_client
    APP_NOT_CONFIGURED = "app_not_configured"  # the account's Zoom app is gone or replaced
    MISSING_SCOPES = "missing_scopes"  # the user did not grant a scope the mint needs
    ZOOM_ERROR = "zoom_error"  # any other refusal from Zoom


class ZoomConnection(Base):
    __tablename__ = "zoom_connections"
    __table_args__ = (
        UniqueConstraint("account_id", "zoom_user_id"),
        # Keyset pagination: newest first within an account, optionally by state.
        Index("ix_zoom_connections_account_created", "account_id", "created_at", "id"),
        Index("ix_zoom_connections_account_state_created", "account_id", "state", "created_at", "id"),
        # Keep-alive picks due connections by range scan: cost follows the number due.
        Index("ix_zoom_connections_state_keepalive", "state", "next_keepalive_at"),
        # List filters: email prefix (LIKE 'p%' on PostgreSQL needs the pattern operator class;
        # SQLite scans the same index by range), Zoom account id.
        Index("ix_zoom_connections_account_email", "account_id", "email_lower",
              postgresql_ops={"email_lower": "text_pattern_ops"}),
        Index("ix_zoom_connections_account_zoom_account", "account_id", "zoom_account_id",
              "created_at", "id"),
    )

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    zoom_user_id: Mapped[str] = mapped_column(String(200), nullable=False)
    zoom_account_id: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    email: Mapped[str] = mapped_column(String(320), nullable=False, default="")
    # The email lowercased, for the list's case-insensitive prefix filter.
    email_lower: Mapped[str] = mapped_column(String(320), nullable=False, default="")
    display_name: Mapped[str] = mapped_column(String(400), nullable=False, default="")
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, nullable=False, default=dict)
    state: Mapped[str] = mapped_column(String(20), nullable=False, default=ConnectionState.CONNECTED)
    # The Zoom app (client id) that holds this grant: refresh and revoke need its secret.
    client_id: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    scopes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    access_token: Mapped[str | None] = encrypted_column()
    refresh_token: Mapped[str | None] = encrypted_column()
    access_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Bumped every time the token pair changes; a writer that saw an older generation
    # lost a race and must not act on its stale view (design.md, token refresh).
    token_generation: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When the keep-alive worker should next refresh this connection (None: nothing to keep).
    next_keepalive_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    disconnected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    disconnected_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # The last failed refresh or mint (kept after recovery: `at` says how old it is).
    last_error_code: Mapped[str | None] = mapped_column(String(60), nullable=True)
    last_error_message: Mapped[str | None] = mapped_column(String(500), nullable=True)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Start of the current run of transient failures (Zoom down, rate limited); cleared by the
    # next success, which announces a recovery when the run lasted long enough.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    @property
    def has_refresh_token(self) -> bool:
        return self.refresh_token is not None


class ConnectionMetadataEntry(Base):
    """One top-level scalar of a connection's metadata, so the list can filter on
    ``metadata.<key>=<value>`` from an index. Written with the metadata, deleted with the row."""

    __tablename__ = "zoom_connection_metadata"
    __table_args__ = (
        UniqueConstraint("connection_id", "key"),
        # In list order after the match: a filtered page reads its rows and stops.
        Index("ix_zoom_connection_metadata_account_key_value_created", "account_id", "key", "value",
              "created_at", "connection_id"),
    )

    connection_id: Mapped[str] = mapped_column(
        ForeignKey("zoom_connections.id", ondelete="CASCADE"), nullable=False
    )
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    key: Mapped[str] = mapped_column(String(200), nullable=False)
    value: Mapped[str] = mapped_column(String(500), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)  # the connection's


class ReconnectIntent(Base):
    """A reconnect link handed out for one end-user: when a code comes back with its state,
    connection-create knows which Zoom user is expected. Holds a keyed hash of the state."""

    __tablename__ = "zoom_reconnect_intents"
    __table_args__ = (UniqueConstraint("account_id", "state_hash"),)

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    zoom_user_id: Mapped[str] = mapped_column(String(200), nullable=False)
    state_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    redirect_uri: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)


class CodeExchange(Base):
    """Receipt of an authorization code already exchanged, so a retried
    connection-create returns the same connection instead of failing on a
    single-use code. Holds a keyed hash of the code, never the code."""

    __tablename__ = "zoom_code_exchanges"
    __table_args__ = (UniqueConstraint("account_id", "code_hash"),)

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    connection_id: Mapped[str | None] = mapped_column(
        ForeignKey("zoom_connections.id", ondelete="CASCADE"), nullable=True
    )
    created_at: Mapped[datetime] = created_at_column()
