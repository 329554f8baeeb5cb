"""The Zoom OAuth apps a customer registered with us: several per account, one of them the
default (what ``/api/v1/zoom/oauth/app`` and every call without an ``app_id`` mean)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from obfbroker.db.base import Base, UTCDateTime, created_at_column, encrypted_column, utcnow
from obfbroker.enums import FactEnum


class AppKind(FactEnum):
    """Who authorizes the app at Zoom, and so what one authorization lets obfbroker do. So far
    every app is user-managed; the column is where admin-managed (account-level) apps will say so."""

    # Each kind carries what it means and the scopes a grant of it must hold (a comment, not the
    # docstring, which describes the enum in the OpenAPI document).
    description: str
    scopes: tuple[str, ...]

    USER_MANAGED = ("user_managed", "Each end-user authorizes the app for themselves: one connection per "
                    "Zoom user, minting only for that user", ("user:read:user", "user:read:token"))


class ZoomApp(Base):
    __tablename__ = "zoom_apps"
    __table_args__ = (UniqueConstraint("account_id", "client_id"),)

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    client_id: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    client_secret: Mapped[str | None] = encrypted_column(nullable=False)
    webhook_secret_token: Mapped[str | None] = encrypted_column()
    name: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    kind: Mapped[str] = mapped_column(String(20), nullable=False, default=AppKind.USER_MANAGED)
    # The account's default app: at most one per account (the partial unique index below).
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


Index("uq_zoom_apps_default", ZoomApp.account_id, unique=True,
      sqlite_where=ZoomApp.is_default.is_(True), postgresql_where=ZoomApp.is_default.is_(True))
