"""Erase an end-user: the customer's DELETE of a connection (API and dashboard). It spans four
domains: the connection (revoke at Zoom, its events, the row), the Idempotency-Key answers that
name the user, the token links that mint for it and the bots that act for it.

It runs under the locks a token refresh takes (``TokenBroker.exclusively``) and re-reads the
row there, so the refresh token it revokes is the current one whatever refresh ran just before,
and a refresh that comes after finds no row and asks Zoom nothing. In that one transaction: the
``.disconnected`` event (reason ``deleted``, only if it was connected), the end-user's identity
blanked in every event about the connection, the create_connection and create_token_link
Idempotency-Key answers naming the user forgotten, its token links revoked, its bots unlinked
(they keep their history: their ``zoom`` holds the Zoom user id), then the row with its tokens,
email, name, metadata, code receipts, reconnect intents and metadata index rows.

SQLite keeps old page images in its write-ahead log and freed space in the file: with
``secure_delete`` (``db.session``) freed space is zeroed, and after the erase the log is
checkpointed and truncated, so the database files hold nothing of the erased user.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from obfbroker import idempotency
from obfbroker.accounts.models import Account
from obfbroker.bots import service as bots
from obfbroker.connections import service as connections
from obfbroker.connections.endpoints import USER_ID
from obfbroker.connections.errors import not_connected
from obfbroker.connections.models import ZoomConnection
from obfbroker.connections.schemas import ConnectionDeleted
from obfbroker.connections.wiring import ConnectionKit
from obfbroker.db.session import truncate_sqlite_log
from obfbroker.deps import AccountDep, SessionDep, runtime_part
from obfbroker.openapi import error_responses
from obfbroker.token_links import service as token_links

log = logging.getLogger(__name__)

# The Idempotency-Key operations whose recorded answers name the end-user.
ANSWERS_NAMING_THE_USER = ("create_connection", "create_token_link")


@dataclass(frozen=True)
class Erasure:
    """What erasing uses: the connections domain's collaborators, and the engine whose SQLite
    log is emptied afterwards."""

    connections: ConnectionKit
    engine: AsyncEngine
    is_sqlite: bool

    async def erase(self, session: AsyncSession, account: Account, zoom_user_id: str) -> None:
        """Revoke the grant at Zoom (best effort) and erase the connection; 404 when there is
        none. ``session`` (the request's) only finds the row; the erase commits in a transaction
        of its own."""
        found = await connections.get(session, account, zoom_user_id)
        kit = self.connections

        async def work(locked: AsyncSession, connection: ZoomConnection | None) -> None:
            if connection is None:  # erased by a concurrent DELETE
                raise not_connected(zoom_user_id)
            await connections.revoke_grant(locked, kit, connection)
            now = kit.clock.now()
            await connections.announce_erasure(locked, connection, now=now)

            def names_user(answer: Any) -> bool:
                return isinstance(answer, dict) and answer.get("zoom_user_id") == connection.zoom_user_id

            for operation in ANSWERS_NAMING_THE_USER:
                await idempotency.forget_answers(locked, kit.vault, account_id=connection.account_id,
                                                 operation=operation, about=names_user)
            await token_links.revoke_connection_links(locked, connection.id, now)
            await bots.unlink_connection(locked, connection.id)
            await connections.delete(locked, connection)

        await kit.tokens.exclusively(found.id, zoom_user_id, work)
        log.info("connection erased", extra={"connection_id": found.id})
        if self.is_sqlite:
            await truncate_sqlite_log(self.engine)


ErasureDep = Annotated[Erasure, Depends(runtime_part("erasure"))]

router = APIRouter(prefix="/api/v1/zoom/oauth", tags=["zoom oauth connections"])


@router.delete("/connections/{zoom_user_id}", response_model=ConnectionDeleted,
               responses=error_responses("zoom_user_not_connected"),
               summary="Disconnect a Zoom user: revoke the grant at Zoom and erase the connection")
async def delete_connection(zoom_user_id: Annotated[str, USER_ID], account: AccountDep, session: SessionDep,
                            erasure: ErasureDep) -> ConnectionDeleted:
    """Revokes the grant at Zoom (best effort), then erases the connection: its tokens, email,
    display name and metadata, and the end-user's identity in the events about it. Bots keep
    their history. Afterwards GET answers 404 and the list no longer shows it."""
    await erasure.erase(session, account, zoom_user_id)
    return ConnectionDeleted(message=f"Zoom user {zoom_user_id} disconnected", zoom_user_id=zoom_user_id)
