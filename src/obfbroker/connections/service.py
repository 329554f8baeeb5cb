"""OAuth connections: exchange a code, identify the Zoom user, keep one row per user."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.accounts.models import Account
from obfbroker.connections import events, health, receipts, reconnect, repository
from obfbroker.connections import metadata as connection_metadata
from obfbroker.connections.errors import (
    REQUIRED_SCOPES,
    ZoomCall,
    customer_error,
    missing_scopes,
    not_connected,
)
from obfbroker.connections.filters import ConnectionFilter
from obfbroker.connections.models import ConnectionState, DisconnectReason, ReconnectIntent, ZoomConnection
from obfbroker.connections.redirects import (
    build_authorize_url,
    validate_redirect_uri,
    validate_state,
)
from obfbroker.connections.tokens import purge_tokens
from obfbroker.connections.wiring import ConnectionKit
from obfbroker.db.base import new_id
from obfbroker.db.repository import found
from obfbroker.errors import BadRequest, ObfError
from obfbroker.zoom.client import AppCredentials, TokenGrant, ZoomUser
from obfbroker.zoom.errors import ZoomError
from obfbroker.zoom_apps import service as zoom_apps
from obfbroker.zoom_apps.models import ZoomApp

log = logging.getLogger(__name__)

MAX_CODE_LENGTH = 2048


async def authorize_url(session: AsyncSession, kit: ConnectionKit, account: Account, *,
                        redirect_uri: str | None, state: str | None, app_id: str | None = None) -> str:
    """The authorize URL of the app ``app_id`` names (the default app when None)."""
    redirect_uri = validate_redirect_uri(redirect_uri)
    state = validate_state(state)
    app = await zoom_apps.require(session, account, app_id)
    return build_authorize_url(kit.oauth_url, client_id=app.client_id,
                               redirect_uri=redirect_uri, state=state)


async def _revoke_quietly(kit: ConnectionKit, credentials: AppCredentials, token: str) -> bool:
    try:
        await kit.zoom.revoke(credentials, token=token)
        return True
    except ZoomError as err:
        log.warning("revoke at Zoom failed", extra={"zoom_error": type(err).__name__})
        return False


async def _identify(kit: ConnectionKit, credentials: AppCredentials, grant: TokenGrant) -> ZoomUser:
    """The Zoom user behind a fresh grant; the grant is revoked if we won't keep it."""
    try:
        missing = [scope for scope in REQUIRED_SCOPES if scope not in grant.scopes]
        if missing:
            raise missing_scopes(missing)
        try:
            user = await kit.zoom.get_me(grant.access_token)
        except ZoomError as err:
            raise customer_error(err, during=ZoomCall.IDENTIFY) from None
        if user.status != "active":
            raise BadRequest(f"Zoom user {user.id} is {user.status or 'not active'}; only active "
                             "Zoom users can be connected", code="zoom_user_not_active")
        return user
    except ObfError:
        await _revoke_quietly(kit, credentials, grant.refresh_token)
        raise


async def connect(session: AsyncSession, kit: ConnectionKit, account: Account, *, code: Any,
                  redirect_uri: Any, metadata: Any, metadata_given: bool, state: str | None = None,
                  allow_other_user: bool = False, app_id: str | None = None) -> ZoomConnection:
    """Exchange the code, identify the user and upsert their connection (guide, Step 2). A
    ``state`` naming a live reconnect link must come back with that link's user, unless
    ``allow_other_user``. The code is exchanged with the app ``app_id`` names; without one, with
    the app of the reconnect link's connection when the state names a link, else the default app."""
    if not isinstance(code, str) or not code.strip() or len(code) > MAX_CODE_LENGTH:
        raise BadRequest("code is required: the authorization code from Zoom's redirect",
                         code="invalid_code")
    redirect_uri = validate_redirect_uri(redirect_uri if isinstance(redirect_uri, str) else None)
    if metadata_given:
        metadata = connection_metadata.validate_metadata(metadata)
    state = validate_state(state)
    intent = await reconnect.live_intent(session, kit.hasher, account.id, state, now=kit.clock.now())
    app = await _app_for_code(session, account, app_id, intent)
    credentials = zoom_apps.credentials(kit.vault, app)

    digest = receipts.code_hash(kit.hasher, code=code, redirect_uri=redirect_uri)
    claim = await receipts.claim(kit.sessions, account_id=account.id, digest=digest,
                                 clock=kit.clock.now,
                                 wait_seconds=kit.duplicate_wait_seconds,
                                 request_session=session)
    if claim.connection_id is not None:
        existing = await repository.connection_by_id(session, account.id, claim.connection_id)
        if existing is not None:
            return existing
    try:
        try:
            grant = await kit.zoom.exchange_code(credentials, code=code, redirect_uri=redirect_uri)
        except ZoomError as err:
            raise customer_error(err, during=ZoomCall.EXCHANGE) from None
        user = await _identify(kit, credentials, grant)
        if intent is not None and intent.zoom_user_id != user.id and not allow_other_user:
            await _revoke_quietly(kit, credentials, grant.refresh_token)
            raise reconnect.other_user(intent.zoom_user_id, user.id)
        connection = await _upsert(session, kit, account, app.client_id, user, grant,
                                   metadata if metadata_given else None)
        if intent is not None:
            await reconnect.consume(session, intent)
        await receipts.complete(session, claim.receipt_id, connection.id)
        return connection
    except BaseException:
        await receipts.release(kit.sessions, claim.receipt_id)
        raise


async def _app_for_code(session: AsyncSession, account: Account, app_id: str | None,
                        intent: ReconnectIntent | None) -> ZoomApp:
    if app_id is None and intent is not None:
        connection = await repository.connection_by_zoom_user(session, account.id, intent.zoom_user_id)
        app = await app_of(session, connection) if connection is not None else None
        if app is not None:
            return app
    return await zoom_apps.require(session, account, app_id)


async def _upsert(session: AsyncSession, kit: ConnectionKit, account: Account, client_id: str,
                  user: ZoomUser, grant: TokenGrant, metadata: dict[str, Any] | None) -> ZoomConnection:
    now = kit.clock.now()
    connection = await repository.connection_by_zoom_user(session, account.id, user.id, for_update=True)
    event = events.RECONNECTED if connection is not None else events.CONNECTED
    if connection is None:
        connection = ZoomConnection(id=new_id("conn"), account_id=account.id, zoom_user_id=user.id,
                                    created_at=now, metadata_={}, token_generation=0)
        session.add(connection)
    connection.zoom_account_id = user.account_id or ""
    connection.email = user.email or ""
    connection.email_lower = connection.email.lower()
    connection.display_name = user.display_name or ""
    connection.client_id = client_id
    connection.state = ConnectionState.CONNECTED
    connection.disconnected_at = None
    connection.disconnected_reason = None
    connection.updated_at = now
    kit.tokens.store(connection, grant, now)
    await session.flush()
    if metadata is not None:
        entries = connection_metadata.index_entries(metadata)
        await repository.store_metadata(session, connection, metadata, entries)
    await events.emit(session, connection, event, now=now)
    return connection


async def revoke_grant(session: AsyncSession, kit: ConnectionKit, connection: ZoomConnection) -> None:
    """Revoke a connection's grant at Zoom, best effort: with the stored refresh token (it kills
    the whole grant), else the access token."""
    column = next((c for c in ("refresh_token", "access_token") if getattr(connection, c)), None)
    if column is None:
        return
    app = await app_of(session, connection)
    if app is None:
        log.warning("connection's Zoom app is gone; grant not revoked at Zoom",
                    extra={"connection_id": connection.id})
        return
    try:
        await kit.zoom.revoke(zoom_apps.credentials(kit.vault, app), token=kit.vault.open(connection, column))
    except ZoomError as err:
        log.warning("revoke at Zoom failed; erasing anyway",
                    extra={"connection_id": connection.id, "zoom_error": type(err).__name__})


async def announce_erasure(session: AsyncSession, connection: ZoomConnection, *, now: datetime) -> None:
    """The ``.disconnected`` event (reason ``deleted``, only if it was connected), then the
    end-user's identity blanked in every event about the connection."""
    if connection.state == ConnectionState.CONNECTED:
        await events.emit(session, connection, events.DISCONNECTED, now=now, extra={
            "state": ConnectionState.DISCONNECTED, "reason": events.DELETED, "disconnected_at": now})
    await events.scrub(session, connection)


async def delete(session: AsyncSession, connection: ZoomConnection) -> None:
    """The row, its tokens, identity and metadata, with its code receipts, reconnect intents and
    metadata index rows."""
    await repository.delete_connection_records(session, connection)
    await session.delete(connection)
    await session.flush()


async def app_of(session: AsyncSession, connection: ZoomConnection) -> ZoomApp | None:
    """The Zoom app the connection was authorized through (None when the account removed it)."""
    return await zoom_apps.app_of_client(session, connection.account_id, connection.client_id)


async def by_id(session: AsyncSession, account_id: str, connection_id: str) -> ZoomConnection | None:
    return await repository.connection_by_id(session, account_id, connection_id)


async def find(session: AsyncSession, account_id: str, zoom_user_id: str) -> ZoomConnection | None:
    return await repository.connection_by_zoom_user(session, account_id, zoom_user_id)


async def has_any(session: AsyncSession, account_id: str) -> bool:
    return await repository.has_connections(session, account_id)


async def zoom_user_ids(session: AsyncSession, connection_ids: Collection[str]) -> dict[str, str]:
    """The Zoom user id of each connection that still exists, by connection id."""
    return await repository.zoom_user_ids(session, connection_ids)


async def get(session: AsyncSession, account: Account, zoom_user_id: str) -> ZoomConnection:
    return found(await repository.connection_by_zoom_user(session, account.id, zoom_user_id),
                 not_connected(zoom_user_id))


async def list_page(session: AsyncSession, account: Account, *, limit: int, cursor: str | None,
                    where: ConnectionFilter) -> tuple[list[ZoomConnection], str | None]:
    """One page of the connections ``where`` admits, newest first, by keyset on (created_at, id)."""
    return await repository.connections_page(session, account.id, where, limit=limit, cursor=cursor)


async def update_metadata(session: AsyncSession, account: Account, zoom_user_id: str, metadata: Any, *,
                          now: datetime) -> ZoomConnection:
    """Replace a connection's metadata (PATCH); nothing else of it changes."""
    metadata = connection_metadata.validate_metadata(metadata)
    connection = await repository.connection_by_zoom_user(session, account.id, zoom_user_id,
                                                          for_update=True)
    if connection is None:
        raise not_connected(zoom_user_id)
    connection.updated_at = now
    entries = connection_metadata.index_entries(metadata)
    await repository.store_metadata(session, connection, metadata, entries)
    return connection


async def deauthorize(session: AsyncSession, account_id: str, zoom_user_id: str, *, client_id: str,
                      forget_identity: bool, now: datetime) -> ZoomConnection | None:
    """Zoom says the user removed the app: disconnect at once and delete the token material
    (nothing to revoke, the grant is gone); the row stays, as ``app_deauthorized``, until the
    customer deletes it or the user reconnects. ``forget_identity`` (the user asked Zoom not to
    retain their data) then blanks who they were. Only a connection authorized through the app
    ``client_id`` (the app whose webhook Zoom called) is touched: None for any other, and when
    the user was never connected."""
    connection = await repository.connection_by_zoom_user(session, account_id, zoom_user_id,
                                                          for_update=True)
    if connection is None or connection.client_id != client_id:
        return None  # never connected, or through another of the account's apps
    reason = DisconnectReason.APP_DEAUTHORIZED
    was_connected = connection.state == ConnectionState.CONNECTED
    if was_connected or connection.access_token is not None or connection.refresh_token is not None:
        purge_tokens(connection, reason=reason, now=now)
    elif connection.disconnected_reason == DisconnectReason.REFRESH_TOKEN_INVALID:
        # Disconnected a moment earlier by a rejected refresh; Zoom now says why.
        connection.disconnected_reason = reason
        health.apply_failure(connection, health.disconnect_failure(reason), now)
    await session.flush()
    if was_connected:
        # The event carries who it was, so it goes out before any identity is dropped.
        await events.emit(session, connection, events.DISCONNECTED, now=now)
    if forget_identity:
        connection.email = connection.email_lower = connection.display_name = ""
        connection.zoom_account_id = ""
        await session.flush()
    log.info("Zoom user deauthorized the app; connection disconnected",
             extra={"connection_id": connection.id})
    return connection


async def count_by_state(session: AsyncSession) -> dict[str, int]:
    """How many connections there are in each state, every account together (a gauge)."""
    return await repository.count_by_state(session)


async def keepalive_backlog(session: AsyncSession, now: datetime) -> tuple[int, datetime | None]:
    """How many connections are due a keep-alive refresh at ``now``, and the oldest due time."""
    return await repository.keepalive_backlog(session, now)
