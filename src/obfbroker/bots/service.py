"""Creating bots (guide, Step 3), reading them, what a bot runtime is handed at launch, and
whom the hosted token server mints for."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from obfbroker.accounts.models import Account
from obfbroker.accounts.service import Hasher
from obfbroker.bots import events, repository
from obfbroker.bots.models import FINISHED, Bot, BotEvent, BotReason, BotStatus, TokenSource
from obfbroker.bots.validation import BotRequest
from obfbroker.bots.wiring import BotKit
from obfbroker.connections import service as connections
from obfbroker.connections.errors import disconnected, not_connected
from obfbroker.connections.models import ConnectionState, ZoomConnection
from obfbroker.connections.tokens import TokenState
from obfbroker.db.base import new_id
from obfbroker.db.repository import found
from obfbroker.errors import BadRequest, Conflict, NotFound, ObfError, Unauthorized
from obfbroker.metrics.recorder import Metrics
from obfbroker.zoom_apps import service as zoom_apps
from obfbroker.zoom_apps.models import ZoomApp

HOSTED_OBF_PATH = "/token-server/zoom/obf"
HOSTED_ZAK_PATH = "/token-server/zoom/zak"
NO_ZOOM_USERS = "No Zoom users connected for this account"


def bot_secret(hasher: Hasher, bot_id: str) -> str:
    """The per-bot secret: derived from the bot id under the deployment's sealed hashing key,
    so it is never stored and the runner, `bots launch-spec` and the token server agree."""
    return hasher.digest(f"bot-secret\n{bot_id}")


def secret_matches(hasher: Hasher, bot_id: str, presented: str) -> bool:
    return hmac.compare_digest(bot_secret(hasher, bot_id).encode(), presented.encode())


async def _require_hosted_auth(session: AsyncSession, account: Account) -> None:
    """Hosted OBF needs connected Zoom users and the Zoom app. An account with neither gets the
    guide's message first, with the app hint after it."""
    has_app = bool(await zoom_apps.list_apps(session, account))
    if not await connections.has_any(session, account.id):
        detail = NO_ZOOM_USERS
        if not has_app:
            detail += "; no Zoom app is configured either: PUT /api/v1/zoom/oauth/app first"
        raise BadRequest(detail, code="no_zoom_users_connected")
    if not has_app:
        raise BadRequest(zoom_apps.NOT_CONFIGURED, code="zoom_app_not_configured")


async def _check_app(session: AsyncSession, account: Account, app_id: str | None,
                     candidates: list[ZoomConnection]) -> None:
    """A bot joins with one Zoom app: a hosted-OBF bot's users must all have authorized the same
    one, which must still be stored, and ``app_id`` (when given) must name it."""
    if app_id is not None:
        await zoom_apps.get_app(session, account, app_id)  # 404 for an app the account lacks
    if not candidates:
        return
    if len({connection.client_id for connection in candidates}) > 1:
        raise BadRequest("zoom.zoom_oauth_connection_user_ids lists users of different Zoom apps of this "
                         "account; a bot joins with one app, so list users who authorized the same one",
                         code="candidates_of_several_apps")
    app = await connections.app_of(session, candidates[0])
    if app is None:
        raise BadRequest(f"The Zoom app Zoom user {candidates[0].zoom_user_id} authorized is no longer "
                         "configured; store it again (POST /api/v1/zoom/oauth/apps)",
                         code="zoom_app_not_configured")
    if app_id is not None and app.id != app_id:
        raise BadRequest(f"Zoom user {candidates[0].zoom_user_id} authorized Zoom app {app.id}, not "
                         f"{app_id}: a hosted-OBF bot joins with the app its users authorized",
                         code="zoom_app_mismatch")


async def _connection_for(session: AsyncSession, account: Account, zoom_user_id: str) -> ZoomConnection:
    """The connection a hosted-OBF bot will act for, with the guide's troubleshooting messages."""
    connection = found(await connections.find(session, account.id, zoom_user_id),
                       BadRequest(not_connected(zoom_user_id).detail, code="zoom_user_not_connected"))
    if connection.state != ConnectionState.CONNECTED or connection.refresh_token is None:
        raise BadRequest(disconnected(zoom_user_id).detail, code="zoom_user_disconnected")
    return connection


def record_status(session: AsyncSession, bot: Bot, status: BotStatus, *, now: datetime,
                  reason: str | None = None) -> None:
    """Move a bot to ``status`` (at ``now``, the runtime's clock) and add it to the timeline."""
    bot.status = status
    bot.reason = reason
    bot.updated_at = now
    if status in FINISHED:
        bot.ended_at = now
        bot.active_deduplication_key = None  # a finished bot no longer holds its key
    session.add(BotEvent(id=new_id("bev"), bot_id=bot.id, status=status, reason=reason, at=now,
                         acting_for_zoom_user_id=bot.acting_for_zoom_user_id))


async def change_status(session: AsyncSession, bot: Bot, status: BotStatus, *, now: datetime,
                        reason: str | None = None) -> None:
    """Record a status change and, in the same transaction, what it tells the customer: the
    bot.status_changed webhook and the bot's callback_url (bots.events)."""
    record_status(session, bot, status, reason=reason, now=now)
    await session.flush()
    await events.announce(session, bot, await connection_user_id(session, bot), now=now)


async def request_leave(session: AsyncSession, account: Account, bot_id: str, *, now: datetime,
                        metrics: Metrics) -> Bot:
    """Ask a bot to leave: a bot no worker has started ends at once; a running one is told."""
    bot = found(await repository.bot_for_account(session, account.id, bot_id, for_update=True),
                not_found(bot_id))
    if bot.status in FINISHED:
        return bot
    if bot.status == BotStatus.QUEUED and (bot.lease_expires_at is None or bot.lease_expires_at < now):
        await change_status(session, bot, BotStatus.ENDED, now=now, reason=BotReason.LEFT_BY_REQUEST)
        # Ended here, not by a runner: counted here (before the request commits; a failed commit
        # over-counts one, which the alerting rates can bear).
        metrics.bot_finished(BotStatus.ENDED, BotReason.LEFT_BY_REQUEST)
        return bot
    bot.leave_requested_at = bot.leave_requested_at or now
    await session.flush()
    return bot


async def create(session: AsyncSession, kit: BotKit, account: Account, request: BotRequest) -> Bot:
    connection, candidates = None, []
    if request.use_zoom_obf:
        await _require_hosted_auth(session, account)
        candidates = [await _connection_for(session, account, user_id)
                      for user_id in request.connection_user_ids]
        connection = candidates[0]
    await _check_app(session, account, request.app_id, candidates)
    link = request.zoom_link
    now = kit.clock.now()
    bot = Bot(
        id=new_id("bot"), account_id=account.id, meeting_link=request.meeting_link,
        meeting_number=link.meeting_number if link else None, passcode=link.passcode if link else None,
        vanity_name=link.vanity_name if link else None, bot_name=request.bot_name,
        audio_required=request.audio_required, video_required=request.video_required,
        callback_url=request.callback_url, custom_attributes=request.custom_attributes,
        settings=request.settings, zoom=request.zoom, join_at=request.join_at,
        connection_id=connection.id if connection else None,
        candidate_connection_ids=[c.id for c in candidates], created_at=now,
        deduplication_key=request.deduplication_key, active_deduplication_key=request.deduplication_key,
    )
    public = kit.public_url
    if connection is not None:
        bot.token_source = TokenSource.HOSTED
        bot.obf_url, bot.zak_url = public + HOSTED_OBF_PATH, public + HOSTED_ZAK_PATH
    elif request.custom_obf_url or request.custom_zak_url:
        bot.token_source = TokenSource.CUSTOM
        bot.obf_url, bot.zak_url = request.custom_obf_url, request.custom_zak_url
    else:
        bot.token_source = TokenSource.NONE
    account_id = account.id
    if request.deduplication_key is not None:
        await _refuse_duplicate(session, account_id, request.deduplication_key)
    session.add(bot)
    try:
        await session.flush()
    except IntegrityError:
        if request.deduplication_key is None:
            raise
        # A concurrent create_bot (perhaps in another process) took the key between our check
        # and our insert: the unique constraint decided. Answer as the check would have.
        await session.rollback()
        async with kit.sessions() as fresh:
            await _refuse_duplicate(fresh, account_id, request.deduplication_key)
        raise Conflict("Another bot with this deduplication_key was being created at the same time "
                       "and has finished since; retry the request", code="duplicate_bot") from None
    await change_status(session, bot, BotStatus.QUEUED, now=now)
    return bot


async def _refuse_duplicate(session: AsyncSession, account_id: str, key: str) -> None:
    """409 naming the unfinished bot that holds ``deduplication_key``, if there is one."""
    holder = await repository.deduplication_key_holder(session, account_id, key)
    if holder is not None:
        raise Conflict(f"Bot {holder} with this deduplication_key has not finished yet; it is the bot "
                       "for this request", code="duplicate_bot", extra={"bot_id": holder})


async def app_of(session: AsyncSession, bot: Bot) -> ZoomApp | None:
    """The Zoom app the bot joins with (its Meeting SDK key): the app its connection was
    authorized through, for a hosted-OBF bot; else the app its ``zoom.app_id`` names, else the
    account's default app. None when it is gone."""
    if bot.zoom.get("app_id") and bot.connection_id is None:
        return await zoom_apps.app_by_id_of(session, bot.account_id, bot.zoom["app_id"])
    if bot.connection_id is not None:
        connection = await connections.by_id(session, bot.account_id, bot.connection_id)
        if connection is not None:
            return await connections.app_of(session, connection)
    return await zoom_apps.app_of_account(session, bot.account_id)


async def unlink_connection(session: AsyncSession, connection_id: str) -> None:
    """A connection is being erased: its bots lose the link and keep their history (their
    ``zoom`` holds the Zoom user id)."""
    await repository.unlink_connection(session, connection_id)


def not_found(bot_id: str) -> NotFound:
    return NotFound(f"Bot {bot_id} not found", code="bot_not_found")


async def get(session: AsyncSession, account: Account, bot_id: str) -> Bot:
    return found(await repository.bot_for_account(session, account.id, bot_id), not_found(bot_id))


async def list_page(session: AsyncSession, account: Account, *, limit: int, cursor: str | None,
                    status: str | None, zoom_user_id: str | None) -> tuple[list[Bot], str | None]:
    """One page of the account's bots, newest first (keyset on created_at, id)."""
    if status is not None and status not in {s.value for s in BotStatus}:
        raise BadRequest(f"status must be one of {', '.join(s.value for s in BotStatus)}",
                         code="invalid_status_filter")
    return await repository.bots_page(session, account.id, status=status, zoom_user_id=zoom_user_id,
                                      limit=limit, cursor=cursor)


async def timeline(session: AsyncSession, bot: Bot) -> list[BotEvent]:
    return (await timelines(session, [bot]))[bot.id]


async def timelines(session: AsyncSession, bots: list[Bot]) -> dict[str, list[BotEvent]]:
    """The status timelines of several bots in one query, oldest entry first."""
    return await repository.timelines(session, [bot.id for bot in bots])


async def connection_user_id(session: AsyncSession, bot: Bot) -> str | None:
    return (await connection_user_ids(session, [bot]))[bot.id]


async def connection_user_ids(session: AsyncSession, bots: list[Bot]) -> dict[str, str | None]:
    """The Zoom user each bot acts for (its first candidate), for several bots in one query."""
    users = await connections.zoom_user_ids(
        session, {bot.connection_id for bot in bots if bot.connection_id is not None})
    return {bot.id: (users.get(bot.connection_id) if bot.connection_id is not None
                     else bot.zoom.get("zoom_oauth_connection_user_id")) for bot in bots}


@dataclass(frozen=True, repr=False)
class LaunchSpec:
    """What a bot runtime is handed: enough to fetch its token and join."""

    bot_id: str
    meeting_number: str | None
    passcode: str | None
    bot_name: str
    obf_url: str | None
    zak_url: str | None
    bot_secret: str
    # Hosted OBF: the Zoom users the bot may act for, in order (pass one as obf_url's zoom_user_id).
    zoom_user_ids: tuple[str, ...] = ()
    # The token URLs are the customer's own (not our hosted endpoint): the outbound policy applies.
    customer_token_server: bool = False

    def as_dict(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"bot_id": self.bot_id, "meeting_number": self.meeting_number,
                                "passcode": self.passcode, "bot_name": self.bot_name}
        if self.obf_url:
            spec["obf_url"] = self.obf_url
        if self.zak_url:
            spec["zak_url"] = self.zak_url
        if self.zoom_user_ids:
            spec["zoom_user_ids"] = list(self.zoom_user_ids)
        spec["bot_secret"] = self.bot_secret
        return spec

    def __repr__(self) -> str:
        return f"LaunchSpec(bot_id={self.bot_id!r}, bot_secret=<redacted>)"


async def launch_spec(session: AsyncSession, hasher: Hasher, bot_id: str) -> LaunchSpec:
    """The launch spec of any bot (an operator's and the runner's view, not scoped to an account)."""
    bot = found(await repository.bot_by_id(session, bot_id), not_found(bot_id))
    return LaunchSpec(bot_id=bot.id, meeting_number=bot.meeting_number, passcode=bot.passcode,
                      bot_name=bot.bot_name, obf_url=bot.obf_url, zak_url=bot.zak_url,
                      bot_secret=bot_secret(hasher, bot.id),
                      zoom_user_ids=tuple(await candidate_user_ids(session, bot)),
                      customer_token_server=bot.token_source == TokenSource.CUSTOM)


async def candidate_user_ids(session: AsyncSession, bot: Bot) -> list[str]:
    """The Zoom user ids a hosted-OBF bot may act for, in the customer's order (connections that
    no longer exist are left out)."""
    ids = bot.candidate_connection_ids
    users = await connections.zoom_user_ids(session, ids)
    return [users[i] for i in ids if i in users]


@dataclass(frozen=True)
class TokenTarget:
    """Whom a hosted token is minted for: a connection, for the bot's meeting."""

    connection_id: str
    meeting_number: str
    known: TokenState | None = None  # the connection's token columns, read with the bot


def _invalid_bot_credentials() -> Unauthorized:
    # One answer for an unknown bot and a wrong secret: nothing to learn by probing.
    return Unauthorized("Unknown bot or wrong secret", code="invalid_bot_credentials")


def _meeting_number(value: str | int | None) -> str:
    text = str(value).strip() if value is not None else ""
    if not (text.isascii() and text.isdigit()):
        raise BadRequest("meeting_number is required: the digits of the meeting the bot joins",
                         code="invalid_meeting_number")
    return text


async def token_target(conn: AsyncConnection, hasher: Hasher, *, bot_id: str | None,
                       secret: str | None, meeting_number: str | int | None,
                       zoom_user_id: str | None) -> TokenTarget:
    """Check a bot's token request (its credentials first, so nothing else is told to a stranger)
    and name the connection to mint for: ``zoom_user_id`` if it is one of the bot's authorizing
    users, else its first one."""
    if not bot_id or not secret or len(bot_id) > 64:
        raise _invalid_bot_credentials()
    bot = await repository.bot_for_token(conn, bot_id)
    if bot is None or not secret_matches(hasher, bot_id, secret):
        raise _invalid_bot_credentials()
    number = _meeting_number(meeting_number)
    if bot.meeting_number != number:
        raise ObfError("This meeting is not the bot's meeting", code="meeting_mismatch", status_code=403)
    if bot.token_source != TokenSource.HOSTED:
        raise ObfError("This bot does not use hosted Zoom auth", code="not_hosted", status_code=403)
    if bot.status in FINISHED:
        raise ObfError(f"Bot {bot.id} has finished ({bot.status})", code="bot_finished", status_code=410)
    if bot.leave_requested_at is not None:
        # Read from the row on every request, so every serve process refuses from the moment the
        # leave request commits, not when a worker acts on it.
        raise ObfError(f"Bot {bot.id} was asked to leave", code="bot_leave_requested", status_code=410)
    if bot.connection_id is None:  # its connection row is gone
        raise disconnected(bot.zoom.get("zoom_oauth_connection_user_id", ""))
    known = TokenState(bot.connection_id, bot.connection_state, bot.access_token,
                       bot.access_token_expires_at, bot.failing_since)
    if not zoom_user_id:
        return TokenTarget(bot.connection_id, number, known)
    connection_id = await repository.connection_id_of_user(conn, bot.account_id, zoom_user_id)
    if connection_id is None or connection_id not in bot.candidate_connection_ids:
        raise ObfError(f"Zoom user {zoom_user_id} is not one of this bot's authorizing users",
                       code="not_a_candidate", status_code=403)
    return TokenTarget(connection_id, number, known if connection_id == bot.connection_id else None)
