"""The shared base of the repositories: what every domain asks the same way of a model with an
``id`` column (one row by conditions, row-locked if asked; the row or the domain's not-found error; update or
delete by id or condition).
Domain repositories name their questions and build on these; helpers that serve several domains
(request_claims.py) pass their model and conditions. A keyset page is ``pagination.keyset_page``."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.db.base import Base
from obfbroker.errors import ObfError

Model = TypeVar("Model", bound=Base)
T = TypeVar("T")


async def delete_where(session: AsyncSession, model: type[Base], where: ColumnElement[bool]) -> None:
    await session.execute(delete(model).where(where))


async def one(session: AsyncSession, model: type[Model], *where: ColumnElement[bool],
              for_update: bool = False) -> Model | None:
    """The row the conditions pick (at most one, by a key or a unique constraint), row-locked for
    the caller's transaction with ``for_update``."""
    query = select(model).where(*where)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


def found(row: T | None, missing: ObfError) -> T:
    """``row``, or ``missing`` (the domain's 404, with its own message and code) raised."""
    if row is None:
        raise missing
    return row


async def update_by_id(session: AsyncSession, model: type[Base], row_id: str, values: dict[str, Any]) -> None:
    await session.execute(update(model).where(model.id == row_id).values(values))


async def delete_by_id(session: AsyncSession, model: type[Base], row_id: str) -> None:
    await session.execute(delete(model).where(model.id == row_id))
