"""MeetStream's bot vocabulary, derived from our finer ``status`` and ``reason``.

Clients written for MeetStream's API poll ``bot_status`` until it is terminal and route
callbacks on ``event`` / ``bot_event``. Every (status, reason) a bot can have maps to exactly one
:class:`Vocabulary` entry here; ``docs/bots.md`` has the same table. Pure functions, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from obfbroker.bots.models import BotReason, BotStatus


class MeetStreamStatus(StrEnum):
    JOINING = "Joining"
    IN_WAITING_ROOM = "InWaitingRoom"
    IN_MEETING = "InMeeting"
    RECORDING = "Recording"
    LEAVING = "Leaving"
    STOPPED = "Stopped"
    NOT_ALLOWED = "NotAllowed"
    DENIED = "Denied"
    ERROR = "Error"
    DONE = "Done"


#: Where a MeetStream polling loop stops.
TERMINAL = frozenset({MeetStreamStatus.STOPPED, MeetStreamStatus.NOT_ALLOWED, MeetStreamStatus.DENIED,
                      MeetStreamStatus.ERROR, MeetStreamStatus.DONE})
#: ``event`` of the one terminal delivery; ``bot_event`` says which kind of stop it was.
STOPPED_EVENT = "bot.stopped"
DONE_EVENT = "bot.done"
DONE_MESSAGE = "Bot session is complete"


@dataclass(frozen=True)
class Vocabulary:
    """How one (status, reason) reads in MeetStream's terms."""

    bot_status: MeetStreamStatus
    bot_event: str
    message: str

    @property
    def terminal(self) -> bool:
        return self.bot_status in TERMINAL

    @property
    def event(self) -> str:
        """``event``: the lifecycle name, ``bot.stopped`` for every kind of stop, ``bot.done``."""
        if self.bot_status is MeetStreamStatus.DONE or not self.terminal:
            return self.bot_event
        return STOPPED_EVENT

    @property
    def status_code(self) -> int:
        """200 for a lifecycle step or a clean stop, 500 for a failure."""
        failure = {MeetStreamStatus.ERROR, MeetStreamStatus.DENIED, MeetStreamStatus.NOT_ALLOWED}
        return 500 if self.bot_status in failure else 200


J, M, L = MeetStreamStatus.JOINING, MeetStreamStatus.IN_MEETING, MeetStreamStatus.LEAVING
S, E = MeetStreamStatus.STOPPED, MeetStreamStatus.ERROR

# Statuses whose meaning does not depend on a reason.
LIFECYCLE: dict[str, Vocabulary] = {
    BotStatus.QUEUED: Vocabulary(J, "bot.joining", "Bot is queued to join the meeting"),
    BotStatus.JOINING: Vocabulary(J, "bot.joining", "Bot is joining the meeting"),
    BotStatus.WAITING_FOR_AUTHORIZING_USER: Vocabulary(
        J, "bot.joining", "Bot is waiting for the authorizing user to join the meeting"),
    # No adapter records yet, so a bot in the meeting is never claimed to be Recording.
    BotStatus.IN_MEETING: Vocabulary(M, "bot.inmeeting", "Bot is in the meeting"),
    BotStatus.LEAVING: Vocabulary(L, "bot.leaving", "Bot is leaving the meeting"),
}

# ended: the bot was in the meeting (or was asked to leave before it got there): clean stops.
ENDED: dict[BotReason, Vocabulary] = {
    BotReason.LEFT_BY_REQUEST: Vocabulary(S, "bot.stopped", "Bot left the meeting as requested"),
    BotReason.AUTHORIZING_USER_LEFT: Vocabulary(
        S, "bot.stopped", "The authorizing user left the meeting, so Zoom removed the bot"),
    BotReason.MEETING_ENDED: Vocabulary(S, "bot.stopped", "The meeting ended"),
    BotReason.LEFT: Vocabulary(S, "bot.stopped", "Bot left the meeting"),
    BotReason.REMOVED: Vocabulary(S, "bot.kicked", "The host removed the bot from the meeting"),
}

# failed: the bot never got in, or could not stay.
FAILED: dict[BotReason, Vocabulary] = {
    BotReason.AUTHORIZING_USER_NEVER_JOINED: Vocabulary(
        MeetStreamStatus.NOT_ALLOWED, "bot.notallowed",
        "Not admitted: the authorizing user never joined the meeting"),
    BotReason.JOIN_DENIED: Vocabulary(
        MeetStreamStatus.DENIED, "bot.denied",
        "Denied: the meeting does not admit this bot (blocked by the account or the host, or locked)"),
}
FAILED_MESSAGES: dict[BotReason, str] = {
    BotReason.CONNECTION_DISCONNECTED: "The authorizing user's Zoom connection is disconnected; "
                               "they must reconnect",
    BotReason.OBF_TOKEN_UNAVAILABLE: "No Zoom token could be fetched for the bot",
    BotReason.JOIN_TIMEOUT: "The bot could not reach the meeting before the join timeout",
    BotReason.MEETING_NOT_FOUND: "The meeting does not exist",
    BotReason.MEETING_ENDED: "The meeting ended before the bot got in",
    BotReason.OBF_TOKEN_INVALID: "Zoom refused the bot's OBF token",
    BotReason.OBF_TOKEN_NOT_MATCH_MEETING: "The bot's OBF token was minted for another meeting",
    BotReason.ZAK_TOKEN_INVALID: "Zoom refused the bot's ZAK token",
    BotReason.WRONG_PASSCODE: "The meeting passcode is wrong",
    BotReason.SDK_AUTH_FAILED: "Zoom refused the Meeting SDK credentials of the Zoom app",
    BotReason.SDK_UNAVAILABLE: "The Zoom Meeting SDK is not available on the worker",
    BotReason.JOIN_FAILED: "The meeting refused the bot",
    BotReason.ZOOM_APP_NOT_CONFIGURED: "The account has no Zoom app configured",
    BotReason.MEETING_NUMBER_REQUIRED: "The meeting link has no meeting number",
    BotReason.INTERNAL_ERROR: "The bot failed because of an internal error",
}


def vocabulary(status: str, reason: str | None) -> Vocabulary:
    """The MeetStream reading of a bot's status and reason."""
    if status in LIFECYCLE:
        return LIFECYCLE[status]
    if status == BotStatus.ENDED:
        return ENDED.get(reason or "", Vocabulary(S, "bot.stopped", "Bot stopped"))
    if reason in FAILED:
        return FAILED[reason]
    message = FAILED_MESSAGES.get(reason or "", "The bot failed")
    return Vocabulary(E, "bot.failed", f"Failed: {message}")


def bot_status(status: str, reason: str | None) -> str:
    return vocabulary(status, reason).bot_status.value
