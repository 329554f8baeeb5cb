"""Reconnect links: an authorize URL handed out for one end-user whose connection needs a new
grant, and, when the code comes back through connection-create with the link's ``state``, the
check that Zoom authorized that same user (a link forwarded to a colleague must not silently
connect someone else). An intent holds a keyed hash of the state, never the state, and lives
``INTENT_TTL``; a matching reconnect consumes it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.accounts.models import Account
from obfbroker.accounts.service import Hasher
from obfbroker.connections import repository
from obfbroker.connections.errors import not_connected
from obfbroker.connections.models import ReconnectIntent
from obfbroker.connections.redirects import build_authorize_url, validate_redirect_uri, validate_state
from obfbroker.connections.wiring import ConnectionKit
from obfbroker.db.base import new_id
from obfbroker.errors import Conflict
from obfbroker.zoom_apps import service as zoom_apps

INTENT_TTL = timedelta(hours=1)
STATE_PREFIX = "obfrc_"


@dataclass(frozen=True)
class ReconnectLink:
    authorize_url: str
    state: str
    expires_at: datetime


def state_hash(hasher: Hasher, state: str) -> str:
    return hasher.digest(f"zoom-reconnect-state\n{state}")


def other_user(expected: str, got: str) -> Conflict:
    return Conflict(
        f"This authorization is for Zoom user {got}, but the reconnect link was made for Zoom user "
        f"{expected}: nothing was stored and the new grant was revoked at Zoom. Have Zoom user "
        f"{expected} sign in, or send allow_other_user: true to connect Zoom user {got} as well",
        code="reconnected_other_user")


async def create_link(session: AsyncSession, kit: ConnectionKit, account: Account, zoom_user_id: str, *,
                      redirect_uri: str | None, state: str | None) -> ReconnectLink:
    """An authorize URL for the end-user of ``zoom_user_id`` and the intent that recognises its
    code; a state used again for another link now names this one."""
    connection = await repository.connection_by_zoom_user(session, account.id, zoom_user_id)
    if connection is None:
        raise not_connected(zoom_user_id)
    redirect_uri = validate_redirect_uri(redirect_uri)
    state = validate_state(state) or f"{STATE_PREFIX}{secrets.token_urlsafe(24)}"
    # The app the user authorized before (the default app when the account no longer has it).
    app = (await zoom_apps.app_of_client(session, account.id, connection.client_id)
           or await zoom_apps.require(session, account))
    now = kit.clock.now()
    expires_at = now + INTENT_TTL
    await repository.delete_expired_intents(session, account.id, now)
    await repository.put_intent(session, intent_id=new_id("rci"), account_id=account.id,
                                state_hash=state_hash(kit.hasher, state),
                                values={"zoom_user_id": zoom_user_id, "redirect_uri": redirect_uri,
                                        "created_at": now, "expires_at": expires_at})
    url = build_authorize_url(kit.oauth_url, client_id=app.client_id,
                              redirect_uri=redirect_uri, state=state)
    return ReconnectLink(authorize_url=url, state=state, expires_at=expires_at)


async def live_intent(session: AsyncSession, hasher: Hasher, account_id: str, state: str | None, *,
                      now: datetime) -> ReconnectIntent | None:
    """The unexpired intent ``state`` names (None for no state, or one of no live link)."""
    if not state:
        return None
    return await repository.intent_by_state(session, account_id, state_hash(hasher, state), now)


async def consume(session: AsyncSession, intent: ReconnectIntent) -> None:
    """The link did its job: it cannot be used again."""
    await repository.delete_intent(session, intent.id)
