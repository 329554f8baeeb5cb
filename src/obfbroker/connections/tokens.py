"""Access tokens that never race (design.md, "Token refresh").

Zoom rotates refresh tokens and kills the previous one at once, so two refreshes of one
connection would disconnect it. Every refresh therefore goes through ``TokenBroker``:

- in a process, one in-flight refresh per connection, shared by every caller (a future);
- across processes, a row lock (``FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite)
  held for the Zoom call, whose timeout is shorter than the lock wait;
- inside the lock the row is re-read: a token still fresh (or, for a forced refresh, different
  from the one Zoom rejected) is used as is; only otherwise is Zoom asked, and the rotated pair
  is committed before anyone uses it.

Erasing a connection (``exclusively``) takes the same two locks, so a delete and a refresh of
one connection never overlap: whichever comes second sees what the first left (the delete
revokes the refresh token the refresh just stored; a refresh after a delete finds no row and
calls nobody). Each refresh or mint leaves its outcome in ``connections.health``: the failure
as ``last_error``, or the end of a run of failures.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar, Literal, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from obfbroker.clock import Clock
from obfbroker.connections import events, health, repository
from obfbroker.connections.errors import ZoomCall, app_credentials_rejected, customer_error, disconnected
from obfbroker.connections.models import ConnectionState, DisconnectReason, ZoomConnection
from obfbroker.connections.retry import retry_transient
from obfbroker.errors import Conflict, ObfError
from obfbroker.metrics.recorder import Metrics
from obfbroker.vault import Vault
from obfbroker.zoom.client import TokenGrant, ZoomClient
from obfbroker.zoom.errors import ZoomError, ZoomErrorKind, ZoomInvalidAccessToken, classify
from obfbroker.zoom_apps.service import app_of_client, credentials

log = logging.getLogger(__name__)
T = TypeVar("T")

REFRESH_MARGIN = timedelta(minutes=5)
# What a connection's grant can mint: OBF, ZAK, and (for meetings its user hosts) a
# local-recording join token.
MintType = Literal["onbehalf", "zak", "local_recording"]


@dataclass(frozen=True)
class TokenState:
    """A connection's token columns as the caller just read them (with the bot, in one query),
    so the hot path can mint without reading the row again. Only a hint: unless it shows a
    connected row with a fresh token, the broker reads and, if need be, refreshes as always."""

    # The row it was read from, as the vault names it (``vault.open(state, "access_token")``).
    __tablename__: ClassVar[str] = ZoomConnection.__tablename__

    connection_id: str
    state: str
    access_token: str | None  # as stored: sealed
    expires_at: datetime | None
    failing_since: datetime | None

    @property
    def id(self) -> str:
        return self.connection_id


@dataclass
class _Outcome:
    token: str | None = None
    disconnected_user: str | None = None
    asked_zoom: bool = False  # Zoom answered a refresh (not: a stored token was still good)


def purge_tokens(connection: ZoomConnection, *, reason: DisconnectReason, now: datetime) -> None:
    """Disconnect, say why (``last_error``) and delete every piece of token material the row
    holds. The caller holds the row."""
    health.apply_failure(connection, health.disconnect_failure(reason), now)
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
    ``lock_wait_seconds``), the vault, the Zoom client, the clock and the metrics it records
    refreshes and mints in."""

    sessions: async_sessionmaker[AsyncSession]
    lock_sessions: async_sessionmaker[AsyncSession]
    vault: Vault
    zoom: ZoomClient
    clock: Clock
    is_sqlite: bool
    lock_wait_seconds: int
    keepalive_days: int = 30
    # A success after failures that started this long ago announces a recovery.
    recovery_after_seconds: float = 300.0
    metrics: Metrics = field(default_factory=Metrics)
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

    def _fresh(self, expires: datetime | None) -> bool:
        """An access token expiring then is usable as is: more than REFRESH_MARGIN left."""
        return expires is not None and expires > self.clock.now() + REFRESH_MARGIN

    def _known_token(self, connection_id: str, known: TokenState | None) -> str | None:
        """The access token ``known`` holds, if it is this connection's and can be used without
        reading the row again."""
        if known is None or known.connection_id != connection_id \
                or known.state != ConnectionState.CONNECTED or known.access_token is None \
                or not self._fresh(known.expires_at):
            return None
        return self.vault.open(known, "access_token")

    async def access_token(self, connection_id: str, *, failed_token: str | None = None) -> str:
        """A usable access token; ``failed_token`` forces a refresh unless someone already did."""
        if failed_token is None:
            async with self.sessions() as session:
                connection = await session.get(ZoomConnection, connection_id)
                if connection is None or connection.state != ConnectionState.CONNECTED \
                        or connection.access_token is None:
                    raise disconnected(connection.zoom_user_id if connection else connection_id)
                if self._fresh(connection.access_token_expires_at):
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
            outcome = await retry_transient(
                lambda: self._refresh_locked(connection_id, failed_token, stale_before), what="refresh")
        except BaseException as err:
            self._inflight.pop(connection_id, None)
            future.set_exception(err)
            future.exception()  # mark retrieved: waiters re-raise it, nobody else must
            if isinstance(err, ObfError):
                await self._failed(connection_id, err, during="token refresh")
            raise
        self._inflight.pop(connection_id, None)
        assert outcome.token is not None
        future.set_result(outcome.token)
        if outcome.asked_zoom:
            await self._succeeded(connection_id)
        return outcome.token

    async def exclusively(self, connection_id: str, zoom_user_id: str,
                          work: Callable[[AsyncSession, ZoomConnection | None], Awaitable[T]]) -> T:
        """Run ``work`` on the row, re-read under both of a refresh's locks and committed before
        they are let go. Refreshes of this connection that arrive meanwhile in this process wait
        and then fail as disconnected, without asking Zoom (the row is gone when ``work``
        erases it)."""
        while (running := self._inflight.get(connection_id)) is not None:
            await asyncio.wait([running])  # its outcome is its callers' business
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._inflight[connection_id] = future
        try:
            async with self._locked(connection_id) as (session, connection):
                result = await work(session, connection)
            future.set_exception(disconnected(zoom_user_id))
            return result
        except BaseException as err:
            future.set_exception(err)
            raise
        finally:
            future.exception()  # mark retrieved: waiters re-raise it, nobody else must
            self._inflight.pop(connection_id, None)

    @asynccontextmanager
    async def _locked(self, connection_id: str) -> AsyncIterator[tuple[AsyncSession, ZoomConnection | None]]:
        """A transaction holding the connection's row lock (None: the row is gone); committed
        when the block succeeds."""
        async with self.lock_sessions() as session, session.begin():
            connection = await repository.lock_connection(
                session, connection_id, lock_wait_seconds=None if self.is_sqlite else self.lock_wait_seconds)
            yield session, connection

    async def _failed(self, connection_id: str, err: ObfError, *, during: str) -> None:
        failure = health.failure_of(err, during=during)
        if failure is not None:
            await health.record_failure(self.sessions, connection_id, failure, now=self.clock.now())

    async def _succeeded(self, connection_id: str) -> None:
        await health.record_success(self.sessions, connection_id, now=self.clock.now(),
                                    recovery_after=timedelta(seconds=self.recovery_after_seconds))

    async def _refresh_locked(self, connection_id: str, failed_token: str | None,
                              stale_before: datetime | None = None) -> _Outcome:
        outcome = _Outcome()
        async with self._locked(connection_id) as (session, connection):
            if connection is None or connection.state != ConnectionState.CONNECTED \
                    or connection.refresh_token is None:
                raise disconnected(connection.zoom_user_id if connection else connection_id)
            stored = self.vault.open(connection, "access_token") if connection.access_token else None
            outcome.token = stored
            if stale_before is not None:
                refreshed = connection.last_refreshed_at
                if stored is not None and refreshed is not None and refreshed >= stale_before:
                    return outcome  # refreshed since the keep-alive round looked: nothing to do
            elif stored is not None:
                if failed_token is not None and stored != failed_token:
                    return outcome  # another caller refreshed after that token failed
                if failed_token is None and self._fresh(connection.access_token_expires_at):
                    return outcome
            await self._refresh(session, connection, outcome)
        if outcome.disconnected_user is not None:
            raise disconnected(outcome.disconnected_user)
        return outcome

    async def _refresh(self, session, connection: ZoomConnection, outcome: _Outcome) -> None:
        app = await app_of_client(session, connection.account_id, connection.client_id)
        if app is None:
            raise Conflict("The Zoom app this connection was authorized with is no longer "
                           "configured; restore it with PUT /api/v1/zoom/oauth/app",
                           code="zoom_app_not_configured")
        generation = connection.token_generation
        try:
            grant = await self.zoom.refresh(credentials(self.vault, app),
                                            refresh_token=self.vault.open(connection, "refresh_token"))
        except ZoomError as err:
            self.metrics.token_refresh(err)
            kind = classify(err)
            if kind is ZoomErrorKind.INVALID_CLIENT:
                raise app_credentials_rejected(status_code=502) from None
            if kind is not ZoomErrorKind.INVALID_GRANT:
                raise
            now = self.clock.now()
            # Only the holder of the generation it read may declare the grant dead.
            still_ours = await repository.still_at_generation(session, connection.id, generation)
            if still_ours:
                purge_tokens(connection, reason=DisconnectReason.REFRESH_TOKEN_INVALID, now=now)
                await session.flush()
                await events.emit(session, connection, events.DISCONNECTED, now=now)
                log.warning("refresh token rejected by Zoom; connection disconnected",
                            extra={"connection_id": connection.id})
            outcome.disconnected_user = connection.zoom_user_id
            return
        self.metrics.token_refresh(None)
        now = self.clock.now()
        self.store(connection, grant, now)
        connection.updated_at = now
        await session.flush()
        outcome.token, outcome.asked_zoom = grant.access_token, True

    async def mint(self, connection_id: str, *, token_type: MintType,
                   meeting_id: str | None, known: TokenState | None = None) -> str:
        """A fresh OBF or ZAK token for the connection's user, or a local-recording join token
        for a meeting the user hosts (never cached: every one is single-use), counted by type and
        outcome (``ok`` or the error's code). ``known``: the row as the caller just read it,
        which spares a read when it holds a fresh token."""
        try:
            minted = await self._mint(connection_id, token_type, meeting_id, known)
        except ObfError as err:
            self.metrics.token_minted(token_type, err.code)
            raise
        except Exception:
            self.metrics.token_minted(token_type, "internal_error")
            raise
        self.metrics.token_minted(token_type, "ok")
        return minted

    async def _mint(self, connection_id: str, token_type: MintType,
                    meeting_id: str | None, known: TokenState | None) -> str:
        token = self._known_token(connection_id, known) or await self.access_token(connection_id)
        try:
            minted = await self._mint_once(token, token_type, meeting_id)
        except ZoomInvalidAccessToken:
            # Zoom can kill a token before its expiry: one forced refresh, one retry.
            token = await self.access_token(connection_id, failed_token=token)
            try:
                minted = await self._mint_once(token, token_type, meeting_id)
            except ZoomInvalidAccessToken:
                raise await self._mint_failed(connection_id, ObfError(
                    "Zoom rejected a freshly refreshed access token; retry later",
                    code="zoom_error", status_code=502)) from None
            except (ObfError, ZoomError) as err:
                raise await self._mint_error(connection_id, token, err) from None
        except (ObfError, ZoomError) as err:
            raise await self._mint_error(connection_id, token, err) from None
        if known is None or known.failing_since is not None:  # else no run of failures to end
            await self._succeeded(connection_id)
        return minted

    async def _mint_once(self, access: str, token_type: MintType, meeting_id: str | None) -> str:
        if token_type == "local_recording":
            assert meeting_id is not None, "a join token is for one meeting"
            return await retry_transient(lambda: self.zoom.local_recording_join_token(
                access, meeting_id=meeting_id, bypass_waiting_room=True), what="mint")
        return await retry_transient(
            lambda: self.zoom.mint_token(access, token_type=token_type, meeting_id=meeting_id),
            what="mint")

    async def _mint_error(self, connection_id: str, access: str, err: ObfError | ZoomError) -> ObfError:
        """The error a failed mint answers with, recorded as the connection's last error."""
        if isinstance(err, ZoomError):
            kind = classify(err)
            if kind is ZoomErrorKind.USER_NOT_FOUND:
                return await self._deleted_at_zoom(connection_id, access)
            if kind is ZoomErrorKind.NOT_MEETING_HOST:
                # Not the connection's failure: it works, for meetings its user hosts.
                return customer_error(err, during=ZoomCall.MINT)
            err = customer_error(err, during=ZoomCall.MINT)
        return await self._mint_failed(connection_id, err)

    async def _mint_failed(self, connection_id: str, err: ObfError) -> ObfError:
        await self._failed(connection_id, err, during="token mint")
        return err

    async def _deleted_at_zoom(self, connection_id: str, access: str) -> ObfError:
        """Zoom says the user behind ``access`` no longer exists: disconnect for good, unless
        the row has moved on to other tokens since (then it is theirs to find out)."""
        async with self._locked(connection_id) as (session, connection):
            if connection is None:
                return disconnected(connection_id)
            stored = self.vault.open(connection, "access_token") if connection.access_token else None
            if connection.state == ConnectionState.CONNECTED and stored == access:
                now = self.clock.now()
                purge_tokens(connection, reason=DisconnectReason.DELETED_AT_ZOOM, now=now)
                await session.flush()
                await events.emit(session, connection, events.DISCONNECTED, now=now)
                log.warning("Zoom user no longer exists; connection disconnected",
                            extra={"connection_id": connection.id})
            return disconnected(connection.zoom_user_id)
