"""FastAPI dependencies every domain's endpoints may use: the request's session (one transaction),
its account, and the process's vault, clock, settings, outbound policy, Idempotency-Key store,
engine, session factory and metrics. They read what ``app.state.runtime`` holds without
importing the runtime, so no domain depends on it (a domain's own collaborators come the same
way, from its ``wiring.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from obfbroker.accounts import service as accounts
from obfbroker.accounts.models import Account
from obfbroker.accounts.service import Hasher
from obfbroker.clock import Clock
from obfbroker.db.session import transaction
from obfbroker.idempotency import KeyStore
from obfbroker.metrics.recorder import Metrics
from obfbroker.outbound import OutboundPolicy
from obfbroker.settings import Settings
from obfbroker.vault import Vault

# Every dependency here is ``async``: FastAPI runs a plain ``def`` dependency in a worker thread,
# a thread hop per request.


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request is the unit of work: commit on success, roll back on any error."""
    async with transaction(request.app.state.runtime.sessions) as session:
        yield session


# scope="function": the commit runs before the response is sent, so a 2xx means "stored" and a
# failed commit becomes an error answer. (FastAPI's default runs this after the response.)
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


# Documents the scheme in OpenAPI ("Authorize" in /docs); parsing stays ours for clear errors.
api_key_header = APIKeyHeader(name="Authorization", auto_error=False,
                              description="`Token <api_key>`")


async def get_account(request: Request, session: SessionDep,
                      authorization: Annotated[str | None, Depends(api_key_header)] = None) -> Account:
    key = accounts.parse_authorization(authorization)
    return await accounts.authenticate(session, request.app.state.runtime.hasher, api_key=key)


AccountDep = Annotated[Account, Depends(get_account)]


# Each part of ``app.state.runtime`` a route, an error page or a middleware may read, typed; for
# the places FastAPI's Depends does not reach (exception handlers, helpers of the dashboard's pages).
def vault_of(request: Request) -> Vault:
    return request.app.state.runtime.vault


def clock_of(request: Request) -> Clock:
    return request.app.state.runtime.clock


def settings_of(request: Request) -> Settings:
    return request.app.state.runtime.settings


def hasher_of(request: Request) -> Hasher:
    return request.app.state.runtime.hasher


def outbound_of(request: Request) -> OutboundPolicy:
    return request.app.state.runtime.outbound


def sessions_of(request: Request) -> async_sessionmaker[AsyncSession]:
    return request.app.state.runtime.sessions


def _dependency(accessor: Callable[[Request], Any]) -> Callable[[Request], Awaitable[Any]]:
    """``accessor`` as a FastAPI dependency."""
    async def part(request: Request) -> Any:
        return accessor(request)
    return part


def runtime_part(name: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency answering one part of ``app.state.runtime`` (its ``name`` attribute): how a
    domain's ``wiring.py`` hands its endpoints what the composition root built for it."""
    return _dependency(lambda request: getattr(request.app.state.runtime, name))


VaultDep = Annotated[Vault, Depends(_dependency(vault_of))]
ClockDep = Annotated[Clock, Depends(_dependency(clock_of))]
SettingsDep = Annotated[Settings, Depends(_dependency(settings_of))]
OutboundDep = Annotated[OutboundPolicy, Depends(_dependency(outbound_of))]
SessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(_dependency(sessions_of))]
IdempotencyDep = Annotated[KeyStore, Depends(runtime_part("idempotency"))]
EngineDep = Annotated[AsyncEngine, Depends(runtime_part("engine"))]
MetricsDep = Annotated[Metrics, Depends(runtime_part("metrics"))]
