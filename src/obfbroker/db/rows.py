"""Statements over any model with an ``id`` column, for helpers that serve several domains
(request_claims.py): the domain passes its model and its conditions."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.db.base import Base

Model = TypeVar("Model", bound=Base)


async def delete_where(session: AsyncSession, model: type[Base], where: ColumnElement[bool]) -> None:
    await session.execute(delete(model).where(where))


async def one_where(session: AsyncSession, model: type[Model], where: ColumnElement[bool]) -> Model | None:
    """The row ``where`` picks (at most one, by a unique constraint)."""
    return (await session.execute(select(model).where(where))).scalar_one_or_none()


async def update_by_id(session: AsyncSession, model: type[Base], row_id: str, values: dict[str, Any]) -> None:
    await session.execute(update(model).where(model.id == row_id).values(values))


async def delete_by_id(session: AsyncSession, model: type[Base], row_id: str) -> None:
    await session.execute(delete(model).where(model.id == row_id))
