"""Declarative base, column helpers and id generation shared by every domain's models."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    """Random, URL-safe, prefixed ids (``conn_...``): generated here so rows can be
    encrypted against their id before they are inserted."""
    return f"{prefix}_{secrets.token_hex(12)}"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite returns naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def encrypted_column(*, nullable: bool = True) -> Mapped[str | None]:
    """A vault-sealed column; `obfbroker keys rotate` finds every column made here."""
    return mapped_column(Text, nullable=nullable, info={"encrypted": True})


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)

    def __repr__(self) -> str:
        # Secrets never reach a log through repr: sealed columns are always redacted.
        shown = []
        for column in self.__table__.columns:
            value = "<redacted>" if column.info.get("encrypted") else getattr(self, column.key, None)
            shown.append(f"{column.key}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"


def created_at_column() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), nullable=False, default=utcnow)
