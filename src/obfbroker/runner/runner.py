"""The bot runner hosted by ``obfbroker worker``: takes queued bots into their meetings.

Each worker claims bots with a lease (``db.claims``: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
``BEGIN IMMEDIATE`` on SQLite) and renews it while the bot runs; a crashed worker's lease runs
out and another worker takes the bot over. For every join attempt the bot fetches a fresh token
from its ``obf_url`` / ``zak_url`` (OBF tokens are single-use), then joins through the meeting
adapter.
While the authorizing user is not in the meeting Zoom refuses the join (each refusal costs a
token and may notify the host), so the bot retries on a paced schedule (runner/pacing.py) within
a wait deadline and a token cap; the pauses and the deadline are the runtime clock's, so a test
can run a twenty-minute wait without waiting. A hosted bot may have several authorizing users: each round
tries them in order and the bot joins for the first one Zoom admits; when Zoom takes it out with
that user, it goes back in for another one still there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from obfbroker.bots import leases
from obfbroker.bots import service as bots
from obfbroker.bots.models import FINISHED, Bot, BotReason, BotStatus
from obfbroker.bots.wiring import BotKit
from obfbroker.outbound import OutboundPolicy, outbound_client
from obfbroker.runner.adapters.base import (
    END_REASONS,
    RETRYABLE_CODES,
    USER_ABSENT,
    EndReason,
    JoinRefused,
    JoinRequest,
    MeetingClient,
    MeetingSession,
    read_refusal,
)
from obfbroker.runner.pacing import Pacing
from obfbroker.runner.token_client import TokenUnavailable, fetch_token
from obfbroker.settings import Settings
from obfbroker.tls import client_context
from obfbroker.vault import Vault
from obfbroker.zoom.sdk_jwt import meeting_sdk_jwt
from obfbroker.zoom_apps import service as zoom_apps
from obfbroker.zoom_apps.models import ZoomApp

log = logging.getLogger(__name__)

LEAVE_POLL_SECONDS = 1.0
ACTIVE = (BotStatus.JOINING, BotStatus.WAITING_FOR_AUTHORIZING_USER, BotStatus.IN_MEETING,
          BotStatus.LEAVING)


class LeaseLost(Exception):
    """Another worker owns the bot now; stop touching it."""


@dataclass
class _Attempts:
    """What one bot's joins may still spend: until ``deadline`` (the clock's monotonic time),
    and tokens."""

    deadline: float
    tokens_left: int
    refused_rounds: int = 0


def _gave_up(previous: str | None) -> str:
    """The reason of a bot that stopped trying: the user never came, or nothing else worked."""
    return BotReason.AUTHORIZING_USER_NEVER_JOINED if previous == USER_ABSENT else BotReason.JOIN_TIMEOUT


class BotRunner:
    def __init__(self, kit: BotKit, client: MeetingClient, *, lock_sessions: async_sessionmaker[AsyncSession],
                 vault: Vault, outbound: OutboundPolicy, settings: Settings, worker_id: str,
                 max_bots: int = 20) -> None:
        self.kit, self.client, self.worker_id, self.max_bots = kit, client, worker_id, max_bots
        self.lock_sessions, self.vault, self.settings = lock_sessions, vault, settings
        # Our own hosted token endpoint (the operator's OBFBROKER_PUBLIC_URL) ...
        self.http = httpx.AsyncClient(timeout=15, follow_redirects=False, verify=client_context())
        # ... and customers' own token servers, under the outbound policy (outbound.py).
        self.outbound = outbound_client(outbound, timeout=15)
        self.tasks: dict[str, asyncio.Task] = {}
        self.lease = timedelta(seconds=settings.bot_lease_seconds)
        self.pacing = Pacing(initial=settings.join_retry_initial_seconds,
                             steady_min=settings.join_retry_steady_min_seconds,
                             steady_max=settings.join_retry_steady_max_seconds)

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
        now = self.kit.clock.now()
        # A worker that died mid-bot (lease ran out) or stopped (lease released): take it over.
        async with self.lock_sessions() as session, session.begin():
            return await leases.claim(session, now, ACTIVE, owner=self.worker_id, until=now + self.lease,
                                      limit=limit)

    async def _renew(self, bot_id: str) -> None:
        async with self.kit.sessions() as session:
            held = await leases.renew(session, bot_id, self.worker_id, self.kit.clock.now() + self.lease)
            await session.commit()
        if not held:
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
                await self._status(bot_id, BotStatus.FAILED, BotReason.INTERNAL_ERROR)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(Exception):
                await self._release(bot_id)

    async def _release(self, bot_id: str) -> None:
        async with self.kit.sessions() as session:
            await leases.release(session, bot_id, self.worker_id)
            await session.commit()

    async def _status(self, bot_id: str, status: BotStatus, reason: str | None = None, **values) -> Bot:
        """Change the bot's status if we still hold it; the change queues its webhook and callback."""
        async with self.kit.sessions() as session:
            bot = await leases.locked(session, bot_id)
            if bot.lease_owner != self.worker_id:
                raise LeaseLost(bot_id)
            for key, value in values.items():
                setattr(bot, key, value)
            changed = bot.status != status or bot.reason != reason
            if changed:
                await bots.change_status(session, bot, status, now=self.kit.clock.now(), reason=reason)
            await session.commit()
        if changed and status in FINISHED:
            self.kit.metrics.bot_finished(status, reason)
        return bot

    async def _note(self, bot_id: str, **values) -> None:
        """Set some of the bot's columns (no status change) if we still hold it."""
        async with self.kit.sessions() as session:
            held = await leases.set_if_held(session, bot_id, self.worker_id, values)
            await session.commit()
        if not held:
            raise LeaseLost(bot_id)

    async def _load(self, bot_id: str) -> tuple[Bot, ZoomApp | None, bots.LaunchSpec]:
        async with self.kit.sessions() as session:
            bot = await leases.find(session, bot_id)
            app = await bots.app_of(session, bot)
            spec = await bots.launch_spec(session, self.kit.hasher, bot_id)
            return bot, app, spec

    async def _leave_requested(self, bot_id: str) -> bool:
        async with self.kit.sessions() as session:
            bot = await leases.find(session, bot_id)
            return bot is None or bot.leave_requested_at is not None or bot.status in FINISHED

    async def _drive(self, bot_id: str) -> None:
        bot, app, spec = await self._load(bot_id)
        if bot.status in FINISHED:
            return
        if bot.adapter_session_id and bot.meeting_number and hasattr(self.client, "abandon"):
            await self.client.abandon(bot.meeting_number, bot.adapter_session_id)  # left by a dead worker
        if bot.leave_requested_at is not None:
            await self._status(bot_id, BotStatus.ENDED, BotReason.LEFT_BY_REQUEST)
            return
        if not bot.meeting_number:
            await self._status(bot_id, BotStatus.FAILED, BotReason.MEETING_NUMBER_REQUIRED)
            return
        if app is None:
            await self._status(bot_id, BotStatus.FAILED, BotReason.ZOOM_APP_NOT_CONFIGURED)
            return
        await self._status(bot_id, BotStatus.JOINING, acting_for_zoom_user_id=None)
        attempts = _Attempts(self._deadline(bot), self.settings.bot_max_tokens - bot.tokens_minted)
        candidates: list[str | None] = list(spec.zoom_user_ids) or [None]
        joined = await self._join(bot, app, spec, candidates, attempts)
        while joined is not None:
            session, acting_for = joined
            await self._status(bot_id, BotStatus.IN_MEETING, acting_for_zoom_user_id=acting_for,
                               adapter_session_id=getattr(session, "session_id", None), next_attempt_at=None)
            reason = await self._stay(bot_id, session)
            if reason is None:
                return  # left on request
            others = [c for c in candidates if c is not None and c != acting_for]
            if reason != BotReason.AUTHORIZING_USER_LEFT or not others:
                await self._status(bot_id, BotStatus.ENDED, reason)
                return
            # Zoom took the bot out with the user it acted for: go back in for another candidate
            # who is still there (one round over the others, same pacing and token cap).
            await self._status(bot_id, BotStatus.JOINING, acting_for_zoom_user_id=None,
                               adapter_session_id=None)
            joined = await self._join(bot, app, spec, others, attempts, rejoin=True)

    def _deadline(self, bot: Bot) -> float:
        """When the wait for the authorizing user(s) ends (the clock's monotonic time)."""
        leave = bot.settings.get("automatic_leave") or {}
        seconds = (leave.get("waiting_for_authorizing_user_timeout") or leave.get("waiting_room_timeout")
                   or self.settings.waiting_for_authorizing_user_timeout_seconds)
        return self.kit.clock.monotonic() + float(seconds)

    async def _join(self, bot: Bot, app: ZoomApp, spec: bots.LaunchSpec, candidates: list[str | None],
                    attempts: _Attempts, *, rejoin: bool = False) -> tuple[MeetingSession, str | None] | None:
        """Rounds of join attempts, each trying the candidates in order with a fresh token per
        attempt, paced while they are away. The session and who it acts for; None when the bot
        ended or failed instead (its status says which)."""
        clock = self.kit.clock
        credentials = zoom_apps.credentials(self.vault, app)
        previous: str | None = None  # the last refusal's code
        while True:
            for candidate in candidates:
                if await self._leave_requested(bot.id):
                    await self._status(bot.id, BotStatus.ENDED, BotReason.LEFT_BY_REQUEST,
                                       next_attempt_at=None)
                    return None
                if attempts.tokens_left <= 0:
                    await self._status(bot.id, BotStatus.FAILED, _gave_up(previous), next_attempt_at=None)
                    return None
                await self._bump(bot.id, Bot.join_attempts)  # before its outcome is written, never after
                try:
                    token = await self._token(spec, candidate, attempts)
                    request = JoinRequest(
                        bot_id=bot.id, meeting_number=bot.meeting_number, passcode=bot.passcode,
                        bot_name=bot.bot_name,
                        sdk_jwt=meeting_sdk_jwt(credentials.client_id, credentials.client_secret,
                                                bot.meeting_number, now=self.kit.clock.now()),
                        **token)
                    joined = await self.client.join(request), candidate
                    self.kit.metrics.join_attempt("joined")
                    return joined
                except TokenUnavailable as err:
                    self.kit.metrics.join_attempt("token_unavailable")
                    if err.code == "bot_leave_requested":  # asked to leave since the check above
                        await self._status(bot.id, BotStatus.ENDED, BotReason.LEFT_BY_REQUEST,
                                           next_attempt_at=None)
                        return None
                    if err.code == "zoom_user_disconnected" and len(candidates) == 1:
                        await self._status(bot.id, BotStatus.FAILED, BotReason.CONNECTION_DISCONNECTED)
                        return None
                    if not err.retryable and err.code != "zoom_user_disconnected":
                        log.warning("bot gave up on its token server", extra={
                            "bot_id": bot.id, "status": err.status, "code": err.code, "error": err.reason})
                        await self._status(bot.id, BotStatus.FAILED, BotReason.OBF_TOKEN_UNAVAILABLE)
                        return None
                    previous = "token_unavailable"
                except JoinRefused as err:
                    previous = read_refusal(err.code, previous=previous)
                    self.kit.metrics.join_attempt(previous)
                    if previous not in RETRYABLE_CODES:
                        await self._status(bot.id, BotStatus.FAILED, previous, next_attempt_at=None)
                        return None
            if rejoin and previous == USER_ABSENT:
                await self._status(bot.id, BotStatus.ENDED, BotReason.AUTHORIZING_USER_LEFT,
                                   next_attempt_at=None)
                return None
            attempts.refused_rounds += 1
            wait = self.pacing.delay(attempts.refused_rounds)
            if clock.monotonic() + wait > attempts.deadline:
                reason = (_gave_up(previous) if previous != "token_unavailable"
                          else BotReason.OBF_TOKEN_UNAVAILABLE)
                await self._status(bot.id, BotStatus.FAILED, reason, next_attempt_at=None)
                return None
            next_at = clock.now() + timedelta(seconds=wait)
            if previous == USER_ABSENT:
                await self._status(bot.id, BotStatus.WAITING_FOR_AUTHORIZING_USER, next_attempt_at=next_at)
            else:
                await self._note(bot.id, next_attempt_at=next_at)
            await clock.sleep(wait)

    async def _token(self, spec: bots.LaunchSpec, candidate: str | None,
                     attempts: _Attempts) -> dict[str, str]:
        """A freshly fetched token for this attempt (OBF preferred), as JoinRequest fields."""
        for field_name, url in (("obf_token", spec.obf_url), ("zak_token", spec.zak_url)):
            if url:
                # Name the candidate only when there is a choice: the token server then needs no
                # extra lookup for the usual one-user bot.
                token = await fetch_token(
                    self.outbound if spec.customer_token_server else self.http, url,
                    bot_id=spec.bot_id, secret=spec.bot_secret,
                    meeting_number=spec.meeting_number,
                    zoom_user_id=candidate if len(spec.zoom_user_ids) > 1 else None)
                attempts.tokens_left -= 1
                await self._bump(spec.bot_id, Bot.tokens_minted)
                return {field_name: token}
        return {}

    async def _bump(self, bot_id: str, counter) -> None:
        """Add one to a counter column of the bot (join_attempts, tokens_minted)."""
        async with self.kit.sessions() as session:
            await leases.add_one(session, bot_id, counter)
            await session.commit()

    async def _stay(self, bot_id: str, session: MeetingSession) -> str | None:
        """In the meeting until Zoom puts the bot out (its end reason) or the customer asks it to
        leave (None, the bot has ended then)."""
        ended = asyncio.create_task(session.wait_end())
        try:
            while not ended.done():
                await asyncio.wait({ended}, timeout=LEAVE_POLL_SECONDS)
                if not ended.done() and await self._leave_requested(bot_id):
                    await self._status(bot_id, BotStatus.LEAVING)
                    await session.leave()
                    await ended
                    await self._status(bot_id, BotStatus.ENDED, BotReason.LEFT_BY_REQUEST)
                    return None
            reason = ended.result()
            return reason if reason in END_REASONS else EndReason.REMOVED
        finally:
            if not ended.done():
                ended.cancel()

    async def aclose(self) -> None:
        for task in list(self.tasks.values()):
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        await self.http.aclose()
        await self.outbound.aclose()
        await self.client.aclose()


def meeting_client(settings: Settings) -> MeetingClient:
    """The adapter OBFBROKER_MEETING_ADAPTER names."""
    if settings.meeting_adapter == "zoomsim":
        from obfbroker.runner.adapters.zoomsim import ZoomsimClient

        api = settings.zoom_api_url
        return ZoomsimClient(api[: -len("/v2")] if api.endswith("/v2") else api)
    from obfbroker.runner.adapters.zoom_sdk import ZoomSdkClient

    return ZoomSdkClient()
