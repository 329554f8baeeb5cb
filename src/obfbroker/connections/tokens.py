"""Access tokens that never race (design.md, "Token refresh").

Zoom rotates refresh tokens and kills the previous one at once, so two refreshes of one
connection would disconnect it. Every refresh therefore goes through ``TokenBroker``:

- in a process, one in-flight refresh per connection, shared by every caller (a future);
- across processes, a row lock (``FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite)
  held for the Zoom call, whose timeout is shorter than the lock wait;
- inside the lock the row is re-read: a token still fresh (or, for a forced refresh, different
  from the one Zoom rejected) is used as is; only otherwise is Zoom asked, and the rotated pair
  is committed before anyone uses it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from obfbroker.clock import Clock
from obfbroker.connections import events
from obfbroker.connections.errors import app_credentials_rejected, disconnected, zoom_unavailable
from obfbroker.connections.models import ConnectionState, DisconnectReason, ZoomConnection
from obfbroker.errors import Conflict, ObfError
from obfbroker.vault import Vault
from obfbroker.zoom.client import TokenGrant, ZoomClient
from obfbroker.zoom.errors import (
    ZoomError,
    ZoomInvalidAccessToken,
    ZoomInvalidClient,
    ZoomInvalidGrant,
    ZoomMissingScopes,
    ZoomRateLimited,
    ZoomUnavailable,
)
from obfbroker.zoom_apps import repository as zoom_app_repository

log = logging.getLogger(__name__)

REFRESH_MARGIN = timedelta(minutes=5)
ATTEMPTS = 4
BACKOFF_BASE_SECONDS = 0.25
BACKOFF_CAP_SECONDS = 4.0


def _backoff(attempt: int, retry_after: float | None) -> float | None:
    """Seconds to wait before the next attempt, or None when Zoom asks for longer than we wait."""
    if retry_after is not None:
        return retry_after if retry_after <= BACKOFF_CAP_SECONDS else None
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
    return random.uniform(ceiling / 2, ceiling)  # jitter spreads retries of many callers


async def retry_transient(call, *, what: str):
    """Run ``call`` and retry Zoom timeouts, 5xx and 429 with capped, jittered backoff."""
    for attempt in range(ATTEMPTS):
        try:
            return await call()
        except (ZoomRateLimited, ZoomUnavailable) as err:
            delay = _backoff(attempt, err.retry_after)
            if delay is None or attempt == ATTEMPTS - 1:
                log.warning("Zoom unavailable", extra={"during": what, "zoom_error": type(err).__name__})
                raise zoom_unavailable(err.retry_after) from None
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


@dataclass
class _Outcome:
    token: str | None = None
    disconnected_user: str | None = None


def purge_tokens(connection: ZoomConnection, *, reason: DisconnectReason, now: datetime) -> None:
    """Disconnect and delete every piece of token material the row holds."""
    connection.state = ConnectionState.DISCONNECTED
    connection.access_token = None
    connection.refresh_token = None
    connection.access_token_expires_at = None
    connection.next_keepalive_at = None
    connection.token_generation = (connection.token_generation or 0) + 1
    connection.disconnected_at = now
    connection.disconnected_reason = reason
    connection.updated_at = now


@dataclass
class TokenBroker:
    """Owns every read and write of a connection's Zoom tokens. Its dependencies are explicit:
    the session factories (``lock_sessions`` for the cross-process row lock, waited for at most
    ``lock_wait_seconds``), the vault, the Zoom client and the clock."""

    sessions: async_sessionmaker[AsyncSession]
    lock_sessions: async_sessionmaker[AsyncSession]
    vault: Vault
    zoom: ZoomClient
    clock: Clock
    is_sqlite: bool
    lock_wait_seconds: int
    keepalive_days: int = 30
    _inflight: dict[str, asyncio.Future[str]] = field(default_factory=dict)

    def next_keepalive(self, now: datetime) -> datetime:
        """When to refresh an idle connection: well before Zoom's ~90-day idle expiry, with up to
        10% jitter so connections made together are not all refreshed together."""
        return now + timedelta(days=self.keepalive_days) * (1 - random.uniform(0, 0.1))

    def store(self, connection: ZoomConnection, grant: TokenGrant, now: datetime) -> None:
        """Seal a fresh token pair into the row and bump its generation."""
        connection.access_token = self.vault.seal(connection, "access_token", grant.access_token)
        connection.refresh_token = self.vault.seal(connection, "refresh_token", grant.refresh_token)
        connection.access_token_expires_at = now + timedelta(seconds=grant.expires_in)
        connection.scopes = " ".join(sorted(grant.scopes))
        connection.token_generation = (connection.token_generation or 0) + 1
        connection.last_refreshed_at = now
        connection.next_keepalive_at = self.next_keepalive(now)

    def _fresh(self, connection: ZoomConnection) -> bool:
        """Usable as is: more than REFRESH_MARGIN left before the access token expires."""
        expires = connection.access_token_expires_at
        return expires is not None and expires > self.clock.now() + REFRESH_MARGIN

    async def access_token(self, connection_id: str, *, failed_token: str | None = None) -> str:
        """A usable access token; ``failed_token`` forces a refresh unless someone already did."""
        if failed_token is None:
            async with self.sessions() as session:
                connection = await session.get(ZoomConnection, connection_id)
                if connection is None or connection.state != ConnectionState.CONNECTED \
                        or connection.access_token is None:
                    raise disconnected(connection.zoom_user_id if connection else connection_id)
                if self._fresh(connection):
                    return self.vault.open(connection, "access_token")
        return await self._single_flight(connection_id, failed_token)

    async def keep_alive(self, connection_id: str, *, stale_before: datetime) -> None:
        """Refresh an idle connection so Zoom keeps its refresh token alive, unless someone
        refreshed it since ``stale_before``. Same single-flight path as every other refresh."""
        await self._single_flight(connection_id, None, stale_before=stale_before)

    async def _single_flight(self, connection_id: str, failed_token: str | None, *,
                             stale_before: datetime | None = None) -> str:
        running = self._inflight.get(connection_id)
        if running is not None:
            # Whatever it returns is newer than any token a caller saw fail.
            return await asyncio.shield(running)
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._inflight[connection_id] = future
        try:
            token = await retry_transient(
                lambda: self._refresh_locked(connection_id, failed_token, stale_before), what="refresh")
            future.set_result(token)
            return token
        except BaseException as err:
            future.set_exception(err)
            future.exception()  # mark retrieved: waiters re-raise it, nobody else must
            raise
        finally:
            self._inflight.pop(connection_id, None)

    async def _refresh_locked(self, connection_id: str, failed_token: str | None,
                              stale_before: datetime | None = None) -> str:
        outcome = _Outcome()
        async with self.lock_sessions() as session, session.begin():
            if not self.is_sqlite:
                await session.execute(text(f"SET LOCAL lock_timeout = '{int(self.lock_wait_seconds)}s'"))
            connection = (await session.execute(
                select(ZoomConnection).where(ZoomConnection.id == connection_id).with_for_update()
            )).scalar_one_or_none()
            if connection is None or connection.state != ConnectionState.CONNECTED \
                    or connection.refresh_token is None:
                raise disconnected(connection.zoom_user_id if connection else connection_id)
            stored = self.vault.open(connection, "access_token") if connection.access_token else None
            if stale_before is not None:
                refreshed = connection.last_refreshed_at
                if stored is not None and refreshed is not None and refreshed >= stale_before:
                    return stored  # refreshed since the keep-alive round looked: nothing to do
            elif stored is not None:
                if failed_token is not None and stored != failed_token:
                    return stored  # another caller refreshed after that token failed
                if failed_token is None and self._fresh(connection):
                    return stored
            await self._refresh(session, connection, outcome)
        if outcome.disconnected_user is not None:
            raise disconnected(outcome.disconnected_user)
        assert outcome.token is not None
        return outcome.token

    async def _refresh(self, session, connection: ZoomConnection, outcome: _Outcome) -> None:
        from obfbroker.zoom_apps.service import credentials

        app = await zoom_app_repository.app_for_account(session, connection.account_id)
        if app is None or app.client_id != connection.client_id:
            raise Conflict("The Zoom app this connection was authorized with is no longer "
                           "configured; restore it with PUT /api/v1/zoom/oauth/app",
                           code="zoom_app_not_configured")
        generation = connection.token_generation
        try:
            grant = await self.zoom.refresh(credentials(self.vault, app),
                                            refresh_token=self.vault.open(connection, "refresh_token"))
        except ZoomInvalidGrant:
            now = self.clock.now()
            # Only the holder of the generation it read may declare the grant dead.
            still_ours = (await session.execute(
                update(ZoomConnection).where(ZoomConnection.id == connection.id,
                                             ZoomConnection.token_generation == generation)
                .values(token_generation=generation).execution_options(synchronize_session=False)
            )).rowcount == 1
            if still_ours:
                purge_tokens(connection, reason=DisconnectReason.REFRESH_TOKEN_INVALID, now=now)
                await session.flush()
                await events.emit(session, connection, events.DISCONNECTED, now=now)
                log.warning("refresh token rejected by Zoom; connection disconnected",
                            extra={"connection_id": connection.id})
            outcome.disconnected_user = connection.zoom_user_id
            return
        except ZoomInvalidClient:
            raise app_credentials_rejected(status_code=502) from None
        now = self.clock.now()
        self.store(connection, grant, now)
        connection.updated_at = now
        await session.flush()
        outcome.token = grant.access_token

    async def mint(self, connection_id: str, *, token_type: Literal["onbehalf", "zak"],
                   meeting_id: str | None) -> str:
        """A fresh OBF or ZAK token for the connection's user (never cached: OBF is single-use)."""
        token = await self.access_token(connection_id)

        async def call(access: str) -> str:
            return await retry_transient(
                lambda: self.zoom.mint_token(access, token_type=token_type, meeting_id=meeting_id),
                what="mint")

        try:
            try:
                return await call(token)
            except ZoomInvalidAccessToken:
                # Zoom can kill a token before its expiry: one forced refresh, one retry.
                return await call(await self.access_token(connection_id, failed_token=token))
        except ZoomMissingScopes as err:
            raise Conflict(f"The Zoom user did not grant {', '.join(err.scopes) or 'the needed scope'};"
                           " add it to the Zoom app and have the user authorize again",
                           code="missing_scopes") from None
        except ZoomInvalidAccessToken:
            raise ObfError("Zoom rejected a freshly refreshed access token; retry later",
                           code="zoom_error", status_code=502) from None
        except ZoomError as err:
            raise ObfError(f"Zoom refused to mint the token ({err.reason})", code="zoom_error",
                           status_code=502) from None
