"""A customer's DELETE of a connection: revoke at Zoom, then erase who the end-user was.

It runs under the locks a token refresh takes (``TokenBroker.exclusively``) and re-reads the
row there, so the refresh token it revokes is the current one whatever refresh ran just
before, and a refresh that comes after finds no row and asks Zoom nothing. In that one
transaction: the ``.disconnected`` event (reason ``deleted``, only if it was connected), the
end-user's identity blanked in every event about the connection, the create_connection
Idempotency-Key answers naming the user, the code receipts, reconnect intents and metadata
index rows deleted, the bots unlinked (they keep their history: their ``zoom`` holds the Zoom
user id), its token links revoked (and their creation's Idempotency-Key answers forgotten), then
the row itself with its tokens, email, name and metadata.

SQLite keeps old page images in its write-ahead log and freed space in the file: with
``secure_delete`` (``db.session``) freed space is zeroed, and after the erase the log is
checkpointed and truncated, so the database files hold nothing of the erased user.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker import idempotency
from obfbroker.bots import repository as bots
from obfbroker.connections import events, repository
from obfbroker.connections.errors import not_connected
from obfbroker.connections.models import (
    ConnectionState,
    ZoomConnection,
)
from obfbroker.db.session import SQLITE_BUSY_TIMEOUT_MS
from obfbroker.runtime import Runtime
from obfbroker.token_links import repository as token_links
from obfbroker.zoom.errors import ZoomError
from obfbroker.zoom_apps import service as zoom_apps
from obfbroker.zoom_apps.service import credentials

log = logging.getLogger(__name__)

CREATE_OPERATION = "create_connection"  # the Idempotency-Key operation of connection-create
CREATE_LINK_OPERATION = "create_token_link"  # ... and of token-link creation (its answer names the user)
# How long the log truncation waits for readers; it is tidying, so it never holds a request long.
CHECKPOINT_WAIT_MS = 2000


async def erase(session: AsyncSession, runtime: Runtime, account_id: str, zoom_user_id: str) -> None:
    """Revoke the grant at Zoom (best effort) and erase the connection; 404 when there is none.
    ``session`` (the request's) only finds the row; the erase commits in a transaction of its own."""
    found = await repository.connection_by_zoom_user(session, account_id, zoom_user_id)
    if found is None:
        raise not_connected(zoom_user_id)

    async def work(locked: AsyncSession, connection: ZoomConnection | None) -> None:
        if connection is None:  # erased by a concurrent DELETE
            raise not_connected(zoom_user_id)
        await _revoke(runtime, locked, connection)
        await _forget(runtime, locked, connection)

    await runtime.tokens.exclusively(found.id, zoom_user_id, work)
    log.info("connection erased", extra={"connection_id": found.id})
    if runtime.settings.is_sqlite:
        await _truncate_log(runtime)


async def _revoke(runtime: Runtime, session: AsyncSession, connection: ZoomConnection) -> None:
    """Revoke with the stored refresh token (it kills the whole grant), else the access token."""
    column = next((c for c in ("refresh_token", "access_token") if getattr(connection, c)), None)
    if column is None:
        return
    app = await zoom_apps.app_of_account(session, connection.account_id)
    if app is None or app.client_id != connection.client_id:
        log.warning("connection's Zoom app is gone; grant not revoked at Zoom",
                    extra={"connection_id": connection.id})
        return
    try:
        await runtime.zoom.revoke(credentials(runtime.vault, app),
                                  token=runtime.vault.open(connection, column))
    except ZoomError as err:
        log.warning("revoke at Zoom failed; erasing anyway",
                    extra={"connection_id": connection.id, "zoom_error": type(err).__name__})


async def _forget(runtime: Runtime, session: AsyncSession, connection: ZoomConnection) -> None:
    now = runtime.clock.now()
    if connection.state == ConnectionState.CONNECTED:
        await events.emit(session, connection, events.DISCONNECTED, now=now, extra={
            "state": ConnectionState.DISCONNECTED, "reason": events.DELETED, "disconnected_at": now})
    await events.scrub(session, connection)

    def names_user(answer: Any) -> bool:
        return isinstance(answer, dict) and answer.get("zoom_user_id") == connection.zoom_user_id

    for operation in (CREATE_OPERATION, CREATE_LINK_OPERATION):
        await idempotency.forget_answers(session, runtime.vault, account_id=connection.account_id,
                                         operation=operation, about=names_user)
    # Its token links stop minting for good (they stay listed, revoked, as the bots' history does).
    await token_links.revoke_connection_links(session, connection.id, now)
    await repository.delete_connection_records(session, connection)
    await bots.unlink_connection(session, connection.id)
    await session.delete(connection)
    await session.flush()


async def _truncate_log(runtime: Runtime) -> None:
    """Copy the log into the database file and empty it (SQLite), waiting briefly for readers."""
    async with runtime.engine.connect() as connection:
        await connection.exec_driver_sql(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
        try:
            busy, _, _ = (await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).one()
        finally:
            await connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    if busy:
        log.info("SQLite log not truncated (readers busy); the next checkpoint empties it")
