"""Bots in simulated meetings: joining under Zoom's OBF rules, waiting rooms, leaving, removal,
long-polls."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import secrets
import threading
from collections import Counter
from typing import Protocol

from obfbroker.zoomsim.models import (
    App,
    Bot,
    BotJoinError,
    Meeting,
    MintedToken,
    NotFoundError,
    TokenConsumeError,
)
from obfbroker.zoomsim.sdkjwt import SdkJwtError, decode_and_verify

# Refusals of POST /_sim/meetings/{n}/bots: error -> (HTTP status, SDK-style code).
# 6, 501, 504-506 and 65535 are the Meeting SDK's MeetingFailCode values; 3001 is Zoom's "Meeting
# does not exist"; JWT_INVALID 1 and WRONG_PASSCODE 5 were chosen for the simulator; the SDK has
# no dedicated ZAK or join-token failure, so 507 and 508 are the simulator's own.
JOIN_ERRORS: dict[str, tuple[int, int]] = {
    "MEETING_NOT_FOUND": (404, 3001),
    "MEETING_FAIL_MEETING_OVER": (403, 6),
    "JWT_INVALID": (401, 1),
    "WRONG_PASSCODE": (403, 5),
    "MEETING_FAIL_ON_BEHALF_TOKEN_INVALID": (403, 505),
    "MEETING_FAIL_ON_BEHALF_TOKEN_NOT_MATCH_MEETING": (403, 506),
    "AUTHORIZED_USER_NOT_INMEETING": (403, 501),
    "MEETING_FAIL_ZAK_TOKEN_INVALID": (403, 507),
    "MEETING_FAIL_JOIN_TOKEN_INVALID": (403, 508),
    "MEETING_FAIL_APP_CAN_NOT_ANONYMOUS_JOIN_MEETING": (403, 504),
    "MEETING_FAIL_UNKNOWN": (403, 65535),
}
# What an OBF join answers when the authorizing user is not in the meeting (Faults.obf_refusal):
# the right error, or one of the spurious ones the real SDK sometimes gives instead.
OBF_REFUSALS = ("AUTHORIZED_USER_NOT_INMEETING", "MEETING_FAIL_UNKNOWN", "MEETING_FAIL_MEETING_OVER")
# End reasons, named as the Meeting SDK names them where it has a name.
AUTHORIZED_USER_LEFT = "DueToAuthorizedUserLeave"
LEFT_BY_BOT = "LeftByBot"
KICKED_BY_HOST = "KickByHost"
MEETING_ENDED = "MeetingEnded"
MAX_WAIT_SECONDS = 30.0

_Waiter = tuple[asyncio.AbstractEventLoop, asyncio.Event]


def _refuse(error: str, message: str) -> BotJoinError:
    status, code = JOIN_ERRORS[error]
    return BotJoinError(status, error, code, message)


def _wake(waiter: _Waiter) -> None:
    loop, event = waiter
    with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting any more
        loop.call_soon_threadsafe(event.set)


class MeetingSignals:
    """Per-meeting wake-ups for long-polls, safe to fire from any thread (no busy loops).

    A waiter registers an asyncio.Event of its own loop under a meeting number; `notify` sets
    every Event registered for that meeting through `call_soon_threadsafe`. Lives as long as the
    SimState (a reset wakes everybody, so pollers see their bot is gone).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[_Waiter]] = {}

    def register(self, number: str) -> _Waiter:
        """A new waiter for the meeting, bound to the running event loop."""
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.setdefault(number, set()).add(waiter)
        return waiter

    def unregister(self, number: str, waiter: _Waiter) -> None:
        """Forget a waiter (whether or not it was woken)."""
        with self._lock:
            waiters = self._waiters.get(number)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiters[number]

    def waiting(self, number: str) -> int:
        """How many long-polls wait on the meeting now (tests wait for one before waking it)."""
        with self._lock:
            return len(self._waiters.get(number, ()))

    def notify(self, number: str) -> None:
        """Wake everybody waiting on this meeting."""
        with self._lock:
            waiters = list(self._waiters.get(number, ()))
        for waiter in waiters:
            _wake(waiter)

    def wake_all(self) -> None:
        """Wake every waiter of every meeting."""
        with self._lock:
            waiters = [w for group in self._waiters.values() for w in group]
        for waiter in waiters:
            _wake(waiter)


class _Faults(Protocol):
    obf_refusal: str


class BotWorld(Protocol):
    """What the bot book needs of the simulator (state.SimState provides it)."""

    lock: threading.RLock
    apps: dict[str, App]
    meetings: dict[str, Meeting]
    faults: _Faults
    signals: MeetingSignals

    def now(self) -> float: ...

    def count(self, key: str, user_id: str | None = None) -> None: ...

    def get_meeting(self, number: str) -> Meeting: ...

    def consume_obf_token(self, token: str, meeting_number: str | int, client_id: str) -> str: ...

    def consume_zak_token(self, token: str, client_id: str) -> str: ...

    def consume_join_token(self, token: str, meeting_number: str | int) -> MintedToken: ...


class BotBook:
    """The bot side of the simulator's meetings; bots themselves live in `Meeting.bots`."""

    def __init__(self, sim: BotWorld) -> None:
        self._sim = sim
        self._lock = sim.lock
        self.refusals: Counter[str] = Counter()

    # -- joining --------------------------------------------------------------------------

    def join(
        self,
        number: str,
        *,
        bot_name: str,
        sdk_jwt: str,
        obf_token: str | None = None,
        zak_token: str | None = None,
        passcode: str | None = None,
        join_token: str | None = None,
    ) -> Bot:
        """Let a bot into a meeting (or its waiting room), or raise BotJoinError; every outcome
        is counted. `join_token` is a local-recording join token, given beside an OBF or ZAK one."""
        if obf_token is not None and zak_token is not None:
            raise ValueError("give obf_token or zak_token, not both")
        with self._lock:
            try:
                bot = self._let_in(number, bot_name, sdk_jwt, obf_token, zak_token, passcode,
                                   join_token)
            except BotJoinError as exc:
                self._sim.count("bot_join_refusals")
                self.refusals[exc.error] += 1
                raise
            self._sim.count("bot_joins")
            return bot

    def _let_in(self, number: str, bot_name: str, sdk_jwt: str, obf_token: str | None,
                zak_token: str | None, passcode: str | None, join_token: str | None) -> Bot:
        meeting = self._sim.meetings.get(str(number))
        if meeting is None:
            raise _refuse("MEETING_NOT_FOUND", f"Meeting {number} does not exist")
        if meeting.ended_at is not None:
            raise _refuse("MEETING_FAIL_MEETING_OVER", f"Meeting {meeting.number} has ended")
        try:
            claims = decode_and_verify(sdk_jwt, self._secret_for, meeting_number=meeting.number,
                                       now=self._sim.now())
        except SdkJwtError as exc:
            raise _refuse("JWT_INVALID", f"Invalid SDK JWT ({exc.rule}): {exc.message}") from None
        client_id: str = claims["appKey"]
        if meeting.passcode and not hmac.compare_digest(
            (passcode or "").encode(), meeting.passcode.encode()
        ):
            what = "missing" if not passcode else "wrong"
            raise _refuse("WRONG_PASSCODE", f"The meeting passcode is {what}")

        if obf_token is not None:
            token_type = "onbehalf"
            try:
                user_id = self._sim.consume_obf_token(obf_token, meeting.number, client_id)
            except TokenConsumeError as exc:
                raise _refuse(exc.sdk_error, f"{exc.message} (reason: {exc.reason})") from None
            # The token is used up now, even though the join may still be refused below.
            if user_id not in meeting.participants:
                # Zoom may tell the host that someone is waiting; the answer may be a spurious one.
                meeting.host_notifications += 1
                self._sim.count("host_notifications")
                raise _refuse(
                    self._sim.faults.obf_refusal,
                    f"The authorizing user {user_id} is not in meeting {meeting.number}; "
                    "the on-behalf token is used up, mint a new one for the next attempt",
                )
        elif zak_token is not None:
            token_type = "zak"
            try:
                user_id = self._sim.consume_zak_token(zak_token, client_id)
            except TokenConsumeError as exc:
                raise _refuse("MEETING_FAIL_ZAK_TOKEN_INVALID",
                              f"{exc.message} (reason: {exc.reason})") from None
        else:
            alone = " (a join_token alone is not enough)" if join_token is not None else ""
            raise _refuse(
                "MEETING_FAIL_APP_CAN_NOT_ANONYMOUS_JOIN_MEETING",
                "An app cannot join a meeting outside its account anonymously: "
                f"give obf_token or zak_token{alone}",
            )

        # Last check, so only a join that succeeds uses up the join token.
        join: MintedToken | None = None
        if join_token is not None:
            try:
                join = self._sim.consume_join_token(join_token, meeting.number)
            except TokenConsumeError as exc:
                raise _refuse("MEETING_FAIL_JOIN_TOKEN_INVALID",
                              f"{exc.message} (reason: {exc.reason})") from None

        bypass = join is not None and join.bypass_waiting_room
        bot = Bot(
            id=f"simbot_{secrets.token_hex(8)}",
            meeting_number=meeting.number,
            bot_name=bot_name,
            client_id=client_id,
            token_type=token_type,
            user_id=user_id,
            joined_at=self._sim.now(),
            state="in_waiting_room" if meeting.waiting_room and not bypass else "in_meeting",
            used_join_token=join is not None,
        )
        meeting.bots.append(bot)
        return bot

    def _secret_for(self, client_id: str) -> str | None:
        app = self._sim.apps.get(client_id)
        return app.client_secret if app else None

    # -- lookups and leaving --------------------------------------------------------------

    def get(self, number: str, bot_id: str) -> Bot:
        """A bot of a meeting (in it or not any more), or 404."""
        with self._lock:
            meeting = self._sim.get_meeting(number)
            for bot in meeting.bots:
                if bot.id == bot_id:
                    return bot
            raise NotFoundError(f"Bot {bot_id} never joined meeting {number}")

    def view(self, number: str, bot_id: str) -> dict:
        """A bot as the control API shows it (a snapshot taken under the lock)."""
        with self._lock:
            return self.get(number, bot_id).view()

    def leave(self, number: str, bot_id: str) -> dict:
        """The bot leaves by itself; a bot already out stays as it is."""
        return self._take_out(number, bot_id, "left", LEFT_BY_BOT)

    def remove(self, number: str, bot_id: str) -> dict:
        """The host removes the bot from the meeting; a bot already out stays as it is."""
        return self._take_out(number, bot_id, "removed", KICKED_BY_HOST)

    def admit(self, number: str, bot_id: str) -> dict:
        """The host admits a bot from the waiting room; a bot in any other state stays as it is."""
        with self._lock:
            bot = self.get(number, bot_id)
            if bot.state == "in_waiting_room":
                bot.state = "in_meeting"
                self._sim.signals.notify(bot.meeting_number)
            return bot.view()

    def _take_out(self, number: str, bot_id: str, state: str, reason: str) -> dict:
        with self._lock:
            bot = self.get(number, bot_id)
            if bot.present:
                self._end(bot, state, reason)
                self._sim.signals.notify(bot.meeting_number)
            return bot.view()

    def user_left(self, meeting: Meeting, user_id: str) -> int:
        """Zoom removes every bot (in the meeting or its waiting room) that joined on behalf of
        a user who left; returns how many."""
        with self._lock:
            doomed = [b for b in meeting.bots if b.present and b.on_behalf_of == user_id]
            for bot in doomed:
                self._end(bot, "removed", AUTHORIZED_USER_LEFT)
            if doomed:
                self._sim.signals.notify(meeting.number)
            return len(doomed)

    def meeting_ended(self, meeting: Meeting) -> int:
        """Every bot still in the meeting or its waiting room is removed; returns how many."""
        with self._lock:
            doomed = [b for b in meeting.bots if b.present]
            for bot in doomed:
                self._end(bot, "removed", MEETING_ENDED)
            if doomed:
                self._sim.signals.notify(meeting.number)
            return len(doomed)

    def _end(self, bot: Bot, state: str, reason: str) -> None:
        bot.state, bot.end_reason, bot.left_at = state, reason, self._sim.now()

    # -- long-poll ------------------------------------------------------------------------

    async def wait_for_change(self, number: str, bot_id: str, timeout: float) -> dict:
        """The bot at once if it is out (left or removed); otherwise as soon as its state differs
        from the one it had when the wait began (admitted from the waiting room, left, removed),
        or after `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(max(timeout, 0.0), MAX_WAIT_SECONDS)
        signals = self._sim.signals
        initial_state: str | None = None
        while True:
            # Checking and registering under the state lock: a change made after the check
            # notifies under the same lock, so it cannot slip in between unseen.
            with self._lock:
                bot = self.get(number, bot_id)
                if initial_state is None:
                    initial_state = bot.state
                remaining = deadline - loop.time()
                if not bot.present or bot.state != initial_state or remaining <= 0:
                    return bot.view()
                waiter = signals.register(bot.meeting_number)
            try:
                await asyncio.wait_for(waiter[1].wait(), remaining)
            except TimeoutError:
                pass
            finally:
                signals.unregister(bot.meeting_number, waiter)
