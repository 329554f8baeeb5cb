"""The one Zoom OAuth app a customer registered with us."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from obfbroker.db.base import Base, UTCDateTime, created_at_column, encrypted_column, utcnow


class ZoomApp(Base):
    __tablename__ = "zoom_apps"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    client_id: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    client_secret: Mapped[str | None] = encrypted_column(nullable=False)
    webhook_secret_token: Mapped[str | None] = encrypted_column()
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
