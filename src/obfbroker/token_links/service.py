"""Managing token links: create one for a connection and platform, list, read, revoke, and read
its calls. Calling a link is ``token_links.calls``."""

from __future__ import annotations

import secrets
from datetime import datetime
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.accounts.models import Account
from obfbroker.accounts.service import Hasher
from obfbroker.connections import service as connections
from obfbroker.connections.errors import disconnected, not_connected
from obfbroker.connections.metadata import validate_metadata
from obfbroker.connections.models import ConnectionState, ZoomConnection
from obfbroker.db.base import new_id
from obfbroker.db.repository import found
from obfbroker.errors import BadRequest, NotFound
from obfbroker.token_links import repository
from obfbroker.token_links.models import (
    LinkKind,
    LinkState,
    Platform,
    RevokedReason,
    TokenLink,
    TokenLinkUse,
    TokenType,
)
from obfbroker.token_links.platforms import DIALECTS, attendee_key, link_kinds
from obfbroker.token_links.schemas import (
    TokenLinkCreate,
    TokenLinkCreated,
    TokenLinkRead,
    TokenLinkUseRead,
)
from obfbroker.token_links.wiring import TokenLinks
from obfbroker.zoom.links import NotAZoomLink, parse_zoom_link
from obfbroker.zoom_apps import service as zoom_apps

URL_PREFIX = "/token-links"
SECRET_BYTES = 32  # 256 bits


def secret_digest(hasher: Hasher, secret: str) -> str:
    """What is stored of a link's secret: a keyed hash under the deployment's hashing key."""
    return hasher.digest(f"token-link\n{secret}")


def link_url(public_url: str, link_id: str, kind: LinkKind, secret: str) -> str:
    return f"{public_url}{URL_PREFIX}/{link_id}/{kind.value}?key={quote(secret, safe='')}"


def not_found(link_id: str) -> NotFound:
    return NotFound(f"No token link {link_id} for this account", code="token_link_not_found")


def _token_types(platform: Platform, asked: list[TokenType] | None) -> list[TokenType]:
    dialect = DIALECTS[platform]
    chosen = list(dict.fromkeys(asked)) if asked else list(dialect.default)
    if asked is not None and len(chosen) != len(asked):
        raise BadRequest("token_types lists a type twice", code="invalid_token_types")
    unsupported = [t.value for t in chosen if t not in dialect.allowed]
    if unsupported:
        supported = ", ".join(t.value for t in TokenType if t in dialect.allowed)
        raise BadRequest(f"{platform.value} links cannot mint {', '.join(unsupported)} "
                         f"(they mint {supported})", code="invalid_token_types")
    missing = [t.value for t in dialect.required if t not in chosen]
    if missing:
        raise BadRequest(f"{platform.value} links must allow {', '.join(missing)}",
                         code="invalid_token_types")
    return chosen


def _meeting_number(meeting_link: str | None) -> str | None:
    if meeting_link is None:
        return None
    try:
        link = parse_zoom_link(meeting_link)
    except NotAZoomLink as err:
        raise BadRequest(f"meeting_link must be a Zoom meeting URL ({err.reason})",
                         code="invalid_meeting_link") from None
    if link.meeting_number is None:
        raise BadRequest("meeting_link must include the meeting number: personal links (/my/<name>) cannot "
                         "bind a link, use the meeting's /j/<number> link", code="meeting_number_required")
    return link.meeting_number


async def create(session: AsyncSession, links: TokenLinks, account: Account,
                 request: TokenLinkCreate) -> TokenLinkCreated:
    """A new link for one of the account's connections; its URLs (with the secret) are in this
    answer only."""
    now = links.clock.now()
    token_types = _token_types(request.platform, request.token_types)
    meeting_number = _meeting_number(request.meeting_link)
    if request.expires_at is not None and request.expires_at <= now:
        raise BadRequest("expires_at must be in the future", code="invalid_expires_at")
    metadata = validate_metadata(request.metadata) if request.metadata is not None else {}
    if request.platform == Platform.ATTENDEE:
        if request.platform_secret is None:
            raise BadRequest("platform_secret is required for attendee links: the Attendee project's webhook "
                             "secret, which signs its calls", code="platform_secret_required")
        attendee_key(request.platform_secret)  # refuses what Attendee could not have shown
    elif request.platform_secret is not None:
        raise BadRequest(f"platform_secret is for attendee links only ({request.platform.value} calls "
                         "are not signed)", code="invalid_platform_secret")
    connection = found(await connections.find(session, account.id, request.zoom_user_id),
                       not_connected(request.zoom_user_id))
    if connection.state != ConnectionState.CONNECTED:
        error = disconnected(request.zoom_user_id)
        error.status_code = 400  # as create_bot answers it: the request names an unusable user
        raise error
    if request.app_id is not None:
        await _check_app(session, account, connection, request.app_id)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    link = TokenLink(id=new_id("tl"), account_id=account.id, connection_id=connection.id,
                     zoom_user_id=connection.zoom_user_id, platform=request.platform.value,
                     meeting_link=request.meeting_link, meeting_number=meeting_number,
                     token_types=[t.value for t in token_types], expires_at=request.expires_at,
                     max_uses=request.max_uses, uses=0, metadata_=metadata,
                     secret_hash=secret_digest(links.hasher, secret), created_at=now, updated_at=now)
    if request.platform_secret is not None:
        link.platform_secret = links.vault.seal(link, "platform_secret", request.platform_secret.strip())
    session.add(link)
    await session.flush()
    urls = {kind: link_url(links.public_url, link.id, kind, secret)
            for kind in link_kinds(request.platform, link.token_types)}
    return TokenLinkCreated(**link_read(link, now).model_dump(), urls=urls)


async def _check_app(session: AsyncSession, account: Account, connection: ZoomConnection,
                     app_id: str) -> None:
    app = await zoom_apps.get_app(session, account, app_id)  # 404 for an app the account lacks
    if app.client_id != connection.client_id:
        raise BadRequest(f"Zoom user {connection.zoom_user_id} did not authorize Zoom app {app_id}: its "
                         "links mint through the app the user authorized", code="zoom_app_mismatch")


def link_read(link: TokenLink, now: datetime) -> TokenLinkRead:
    return TokenLinkRead(
        id=link.id, zoom_user_id=link.zoom_user_id, platform=link.platform, meeting_link=link.meeting_link,
        meeting_number=link.meeting_number, token_types=link.token_types, expires_at=link.expires_at,
        max_uses=link.max_uses, uses=link.uses, metadata=link.metadata_ or {},
        has_platform_secret=link.platform_secret is not None,
        state=LinkState.of(revoked_at=link.revoked_at, expires_at=link.expires_at, max_uses=link.max_uses,
                           uses=link.uses, now=now),
        created_at=link.created_at, updated_at=link.updated_at, last_used_at=link.last_used_at,
        revoked_at=link.revoked_at, revoked_reason=link.revoked_reason)


def use_read(use: TokenLinkUse) -> TokenLinkUseRead:
    return TokenLinkUseRead(at=use.at, token_type=use.token_type, minted=use.minted,
                            meeting_number=use.meeting_number, platform_bot_id=use.platform_bot_id,
                            status=use.status, code=use.code)


async def revoke_connection_links(session: AsyncSession, connection_id: str, now: datetime) -> None:
    """A connection is being erased: its links stop minting for good (they stay listed, revoked,
    as the bots' history does)."""
    await repository.revoke_connection_links(session, connection_id, now)


async def settled(session: AsyncSession, links: TokenLinks) -> None:
    """Before a read of links or their uses: write the calls this process has queued
    (use_log.py) and end the request's read so far, so what follows sees them (a SQLite read
    keeps the snapshot it started with). The session has only read until now."""
    await links.uses.flush()
    await session.commit()


async def _get(session: AsyncSession, account: Account, link_id: str) -> TokenLink:
    return found(await repository.link_for_account(session, account.id, link_id), not_found(link_id))


async def get(session: AsyncSession, links: TokenLinks, account: Account, link_id: str) -> TokenLink:
    await settled(session, links)
    return await _get(session, account, link_id)


async def list_page(session: AsyncSession, links: TokenLinks, account: Account, *, zoom_user_id: str | None,
                    platform: Platform | None, limit: int,
                    cursor: str | None) -> tuple[list[TokenLink], str | None]:
    await settled(session, links)
    return await repository.links_page(session, account.id, zoom_user_id=zoom_user_id,
                                       platform=platform.value if platform else None, limit=limit,
                                       cursor=cursor)


async def revoke(session: AsyncSession, links: TokenLinks, account: Account, link_id: str) -> TokenLink:
    """Revoke a link: every process refuses it from the moment this commits (it is read on every
    call). Revoking a revoked link changes nothing."""
    link = found(await repository.link_for_account(session, account.id, link_id, for_update=True),
                 not_found(link_id))
    if link.revoked_at is None:
        now = links.clock.now()
        link.revoked_at, link.revoked_reason, link.updated_at = now, RevokedReason.REVOKED, now
        await session.flush()
    return link


async def uses_page(session: AsyncSession, links: TokenLinks, account: Account, link_id: str, *,
                    limit: int, cursor: str | None) -> tuple[list[TokenLinkUse], str | None]:
    await settled(session, links)
    link = await _get(session, account, link_id)
    return await repository.uses_page(session, link.id, limit=limit, cursor=cursor)
