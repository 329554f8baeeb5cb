"""FastAPI dependency aliases: the request's session (one transaction) and account."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader
from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.accounts import service as accounts
from obfbroker.accounts.models import Account
from obfbroker.db.session import transaction
from obfbroker.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    # async: FastAPI runs a plain ``def`` dependency in a worker thread, a thread hop per request.
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """The request is the unit of work: commit on success, roll back on any error."""
    async with transaction(runtime.sessions) as session:
        yield session


# scope="function": the commit runs before the response is sent, so a 2xx means "stored" and a
# failed commit becomes an error answer. (FastAPI's default runs this after the response.)
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


# Documents the scheme in OpenAPI ("Authorize" in /docs); parsing stays ours for clear errors.
api_key_header = APIKeyHeader(name="Authorization", auto_error=False,
                              description="`Token <api_key>`")


async def get_account(runtime: RuntimeDep, session: SessionDep,
                      authorization: Annotated[str | None, Depends(api_key_header)] = None) -> Account:
    key = accounts.parse_authorization(authorization)
    return await accounts.authenticate(session, runtime.hasher, api_key=key)


AccountDep = Annotated[Account, Depends(get_account)]
