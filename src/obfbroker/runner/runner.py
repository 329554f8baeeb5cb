"""The bot runner hosted by ``obfbroker worker``: takes queued bots into their meetings.

Each worker claims bots with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, ``BEGIN
IMMEDIATE`` on SQLite) and renews it while the bot runs; a crashed worker's lease runs out and
another worker takes the bot over. For every join attempt the bot fetches a fresh token from its
``obf_url`` / ``zak_url`` (OBF tokens are single-use), then joins through the meeting adapter.
While the authorizing user is not in the meeting Zoom refuses the join; the bot waits and
retries, with backoff, until ``automatic_leave.waiting_room_timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import httpx
from sqlalchemy import and_, or_, select, update

from obfbroker.bots import service as bots
from obfbroker.bots.models import FINISHED, Bot, BotStatus
from obfbroker.runner.adapters.base import JoinRefused, JoinRequest, MeetingClient, MeetingSession
from obfbroker.runner.token_client import TokenUnavailable, fetch_token
from obfbroker.runtime import Runtime
from obfbroker.zoom.sdk_jwt import meeting_sdk_jwt
from obfbroker.zoom_apps import service as zoom_apps
from obfbroker.zoom_apps.models import ZoomApp

log = logging.getLogger(__name__)

LEAVE_POLL_SECONDS = 1.0
DEFAULT_WAITING_ROOM_TIMEOUT = 1200.0
BACKOFF_CAP_SECONDS = 3.0
ACTIVE = (BotStatus.JOINING, BotStatus.WAITING_FOR_AUTHORIZING_USER, BotStatus.IN_MEETING,
          BotStatus.LEAVING)
END_REASONS = {"authorizing_user_left", "meeting_ended", "removed", "left"}


class LeaseLost(Exception):
    """Another worker owns the bot now; stop touching it."""


class BotRunner:
    def __init__(self, runtime: Runtime, client: MeetingClient, *, worker_id: str,
                 max_bots: int = 20) -> None:
        self.runtime, self.client, self.worker_id, self.max_bots = runtime, client, worker_id, max_bots
        self.http = httpx.AsyncClient(timeout=15, follow_redirects=False)
        self.tasks: dict[str, asyncio.Task] = {}
        self.lease = timedelta(seconds=runtime.settings.bot_lease_seconds)

    # -- claiming -------------------------------------------------------------------------

    async def dispatch_round(self) -> int:
        """Claim due bots up to capacity and start each; returns how many were started."""
        room = self.max_bots - len(self.tasks)
        if room <= 0:
            return 0
        for bot_id in await self._claim(room):
            task = asyncio.create_task(self._run(bot_id), name=f"bot {bot_id}")
            self.tasks[bot_id] = task
            task.add_done_callback(lambda _, bot_id=bot_id: self.tasks.pop(bot_id, None))
        return room - (self.max_bots - len(self.tasks))

    async def _claim(self, limit: int) -> list[str]:
        now = self.runtime.clock.now()
        lease_free = or_(Bot.lease_expires_at.is_(None), Bot.lease_expires_at < now)
        due = or_(
            and_(Bot.status == BotStatus.QUEUED, or_(Bot.join_at.is_(None), Bot.join_at <= now), lease_free),
            # A worker that died mid-bot (lease ran out) or stopped (lease released): take it over.
            and_(Bot.status.in_(ACTIVE), lease_free),
        )
        async with self.runtime.lock_sessions() as session, session.begin():
            query = select(Bot.id).where(due).order_by(Bot.created_at).limit(limit)
            if not self.runtime.settings.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            ids = list((await session.execute(query)).scalars())
            if ids:
                await session.execute(update(Bot).where(Bot.id.in_(ids)).values(
                    lease_owner=self.worker_id, lease_expires_at=now + self.lease))
            return ids

    async def _renew(self, bot_id: str) -> None:
        async with self.runtime.sessions() as session:
            mine = and_(Bot.id == bot_id, Bot.lease_owner == self.worker_id)
            result = await session.execute(
                update(Bot).where(mine).values(lease_expires_at=self.runtime.clock.now() + self.lease))
            await session.commit()
        if result.rowcount != 1:
            raise LeaseLost(bot_id)

    async def _heartbeat(self, bot_id: str, task: asyncio.Task) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            try:
                await self._renew(bot_id)
            except LeaseLost:
                task.cancel()
                return
            except Exception:
                log.warning("lease renewal failed; retrying", extra={"bot_id": bot_id})

    # -- one bot --------------------------------------------------------------------------

    async def _run(self, bot_id: str) -> None:
        heartbeat = asyncio.create_task(self._heartbeat(bot_id, asyncio.current_task()))
        try:
            await self._drive(bot_id)
        except (LeaseLost, asyncio.CancelledError):
            log.info("bot handed over to another worker", extra={"bot_id": bot_id})
            raise
        except Exception:
            log.exception("bot runner failed", extra={"bot_id": bot_id})
            with contextlib.suppress(Exception):
                await self._status(bot_id, BotStatus.FAILED, "internal_error")
        finally:
            heartbeat.cancel()
            with contextlib.suppress(Exception):
                await self._release(bot_id)

    async def _release(self, bot_id: str) -> None:
        async with self.runtime.sessions() as session:
            await session.execute(update(Bot).where(Bot.id == bot_id, Bot.lease_owner == self.worker_id)
                                  .values(lease_owner=None, lease_expires_at=None))
            await session.commit()

    async def _status(self, bot_id: str, status: BotStatus, reason: str | None = None, **values) -> Bot:
        """Change the bot's status if we still hold it; the change queues its webhook and callback."""
        async with self.runtime.sessions() as session:
            bot = (await session.execute(select(Bot).where(Bot.id == bot_id).with_for_update())).scalar_one()
            if bot.lease_owner != self.worker_id:
                raise LeaseLost(bot_id)
            for key, value in values.items():
                setattr(bot, key, value)
            changed = bot.status != status or bot.reason != reason
            if changed:
                await bots.change_status(session, self.runtime, bot, status, reason=reason)
            await session.commit()
        return bot

    async def _load(self, bot_id: str) -> tuple[Bot, ZoomApp | None, bots.LaunchSpec]:
        async with self.runtime.sessions() as session:
            bot = await session.get(Bot, bot_id)
            app = (await session.execute(select(ZoomApp).where(ZoomApp.account_id == bot.account_id))
                   ).scalar_one_or_none()
            spec = await bots.launch_spec(session, self.runtime, bot_id)
            return bot, app, spec

    async def _leave_requested(self, bot_id: str) -> bool:
        async with self.runtime.sessions() as session:
            bot = await session.get(Bot, bot_id)
            return bot is None or bot.leave_requested_at is not None or bot.status in FINISHED

    async def _drive(self, bot_id: str) -> None:
        bot, app, spec = await self._load(bot_id)
        if bot.status in FINISHED:
            return
        if bot.adapter_session_id and bot.meeting_number and hasattr(self.client, "abandon"):
            await self.client.abandon(bot.meeting_number, bot.adapter_session_id)  # left by a dead worker
        if bot.leave_requested_at is not None:
            await self._status(bot_id, BotStatus.ENDED, "left_by_request")
            return
        if not bot.meeting_number:
            await self._status(bot_id, BotStatus.FAILED, "meeting_number_required")
            return
        if app is None:
            await self._status(bot_id, BotStatus.FAILED, "zoom_app_not_configured")
            return
        await self._status(bot_id, BotStatus.JOINING)
        session = await self._join(bot, app, spec)
        if session is None:
            return
        await self._status(bot_id, BotStatus.IN_MEETING,
                           adapter_session_id=getattr(session, "session_id", None))
        await self._stay(bot_id, session)

    async def _join(self, bot: Bot, app: ZoomApp, spec: bots.LaunchSpec) -> MeetingSession | None:
        """Join with a fresh token per attempt; None when the bot ended or failed instead."""
        loop = asyncio.get_running_loop()
        leave_settings = bot.settings.get("automatic_leave") or {}
        timeout = float(leave_settings.get("waiting_room_timeout") or DEFAULT_WAITING_ROOM_TIMEOUT)
        deadline, attempt = loop.time() + timeout, 0
        credentials = zoom_apps.credentials(self.runtime.vault, app)
        user_absent = False  # the last refusal: the authorizing user not in the meeting
        while True:
            if await self._leave_requested(bot.id):
                await self._status(bot.id, BotStatus.ENDED, "left_by_request")
                return None
            attempt += 1
            try:
                request = JoinRequest(
                    bot_id=bot.id, meeting_number=bot.meeting_number, passcode=bot.passcode,
                    bot_name=bot.bot_name,
                    sdk_jwt=meeting_sdk_jwt(credentials.client_id, credentials.client_secret,
                                            bot.meeting_number, now=self.runtime.clock.now()),
                    **await self._token(spec))
                return await self.client.join(request)
            except TokenUnavailable as err:
                if err.code == "zoom_user_disconnected":
                    await self._status(bot.id, BotStatus.FAILED, "connection_disconnected")
                    return None
                if not err.retryable or loop.time() > deadline:
                    await self._status(bot.id, BotStatus.FAILED, "obf_token_unavailable")
                    return None
            except JoinRefused as err:
                if not err.retryable:
                    await self._status(bot.id, BotStatus.FAILED, err.code)
                    return None
                user_absent = err.code == "authorized_user_not_in_meeting"
                if loop.time() > deadline:
                    await self._status(bot.id, BotStatus.FAILED,
                                       "authorizing_user_never_joined" if user_absent else "join_timeout")
                    return None
                if user_absent:
                    await self._status(bot.id, BotStatus.WAITING_FOR_AUTHORIZING_USER)
            finally:
                await self._count_attempt(bot.id)
            await asyncio.sleep(min(BACKOFF_CAP_SECONDS, 0.5 * 2 ** min(attempt, 6)))

    async def _token(self, spec: bots.LaunchSpec) -> dict[str, str]:
        """A freshly fetched token for this attempt (OBF preferred), as JoinRequest fields."""
        for field_name, url in (("obf_token", spec.obf_url), ("zak_token", spec.zak_url)):
            if url:
                token = await fetch_token(self.http, url, bot_id=spec.bot_id, secret=spec.bot_secret,
                                          meeting_number=spec.meeting_number)
                return {field_name: token}
        return {}

    async def _count_attempt(self, bot_id: str) -> None:
        async with self.runtime.sessions() as session:
            await session.execute(
                update(Bot).where(Bot.id == bot_id).values(join_attempts=Bot.join_attempts + 1))
            await session.commit()

    async def _stay(self, bot_id: str, session: MeetingSession) -> None:
        """In the meeting until Zoom puts the bot out or the customer asks it to leave."""
        ended = asyncio.create_task(session.wait_end())
        try:
            while not ended.done():
                await asyncio.wait({ended}, timeout=LEAVE_POLL_SECONDS)
                if not ended.done() and await self._leave_requested(bot_id):
                    await self._status(bot_id, BotStatus.LEAVING)
                    await session.leave()
                    await ended
                    await self._status(bot_id, BotStatus.ENDED, "left_by_request")
                    return
            reason = ended.result()
            await self._status(bot_id, BotStatus.ENDED, reason if reason in END_REASONS else "removed")
        finally:
            if not ended.done():
                ended.cancel()

    async def aclose(self) -> None:
        for task in list(self.tasks.values()):
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        await self.http.aclose()
        await self.client.aclose()


def meeting_client(runtime: Runtime) -> MeetingClient:
    """The adapter OBFBROKER_MEETING_ADAPTER names."""
    if runtime.settings.meeting_adapter == "zoomsim":
        from obfbroker.runner.adapters.zoomsim import ZoomsimClient

        api = runtime.settings.zoom_api_url
        return ZoomsimClient(api[: -len("/v2")] if api.endswith("/v2") else api)
    from obfbroker.runner.adapters.zoom_sdk import ZoomSdkClient

    return ZoomSdkClient()
