"""Accounts (a customer of obfbroker) and their API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from obfbroker.db.base import Base, UTCDateTime, created_at_column, encrypted_column


class Account(Base):
    __tablename__ = "accounts"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = created_at_column()


class ApiKey(Base):
    __tablename__ = "api_keys"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="default")
    # The readable start of the key ("obf_live_ab12"), for people telling keys apart.
    prefix: Mapped[str] = mapped_column(String(32), nullable=False)
    # HMAC-SHA256 of the whole key under the server's key-hashing secret; never the key.
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = created_at_column()
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ServerSecret(Base):
    """Deployment-wide secrets (e.g. the API-key hashing key), sealed by the vault so
    `keys rotate` covers them and every process shares them through the database."""

    __tablename__ = "server_secrets"

    value: Mapped[str | None] = encrypted_column(nullable=False)
    created_at: Mapped[datetime] = created_at_column()
