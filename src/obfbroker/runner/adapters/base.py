"""The small interface every meeting adapter implements.

The runner hands an adapter a :class:`JoinRequest` (tokens already minted, a fresh OBF token per
attempt) and gets back a :class:`MeetingSession`, or :class:`JoinRefused` with one of
:data:`JOIN_REFUSAL_CODES`. A session's :meth:`MeetingSession.wait_end` answers one of
:data:`END_REASONS` once the bot is out of the meeting.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

__all__ = [
    "END_REASONS",
    "JOIN_REFUSAL_CODES",
    "RETRYABLE_CODES",
    "EndReason",
    "JoinRefused",
    "JoinRequest",
    "MeetingClient",
    "MeetingSession",
    "read_refusal",
]

#: Why a join was refused. Retryable ones are in :data:`RETRYABLE_CODES`.
JOIN_REFUSAL_CODES: frozenset[str] = frozenset({
    "authorized_user_not_in_meeting",  # OBF: the authorizing user hasn't joined yet (retry, new token)
    "obf_token_invalid",
    "obf_token_not_match_meeting",
    "zak_token_invalid",
    "meeting_not_found",
    "meeting_ended",                   # the meeting is over (or ended while the bot was joining)
    "wrong_passcode",
    "sdk_auth_failed",                 # the Meeting SDK JWT / app credentials were refused
    "network_error",                   # Zoom unreachable or timing out (retry)
    "sdk_unavailable",                 # the adapter's SDK isn't installed or won't load here
    "join_denied",                     # the meeting or an account policy keeps the bot out (locked,
                                       # blocked by an admin, outside users not allowed)
    "join_failed",                     # anything else; the message and sdk_error say what
})

#: Refusals worth another attempt (with a newly minted token).
RETRYABLE_CODES: frozenset[str] = frozenset({"authorized_user_not_in_meeting", "network_error"})

USER_ABSENT = "authorized_user_not_in_meeting"


def read_refusal(code: str, *, previous: str | None) -> str:
    """What a refusal means given the one before it. Zoom sometimes answers a refused OBF join
    with "meeting ended" although the meeting goes on; right after an "authorizing user not in
    the meeting", such an answer is read as the user still being away (and retried)."""
    if code == "meeting_ended" and previous == USER_ABSENT:
        return USER_ABSENT
    return code


class EndReason(StrEnum):
    """Why a bot is out of a meeting: what :meth:`MeetingSession.wait_end` returns (the bot's
    ``reason`` when it ends; its MeetStream wording is in ``bots.meetstream``)."""

    AUTHORIZING_USER_LEFT = "authorizing_user_left"  # OBF: Zoom removes the bot when its user leaves
    MEETING_ENDED = "meeting_ended"
    REMOVED = "removed"  # removed by the host
    LEFT = "left"  # we left (MeetingSession.leave)


END_REASONS: frozenset[str] = frozenset(EndReason)


@dataclass(frozen=True)
class JoinRequest:
    """Everything an adapter needs to join one meeting once. Secrets never show in ``repr``."""

    bot_id: str
    meeting_number: str
    passcode: str | None
    bot_name: str
    sdk_jwt: str
    obf_token: str | None = None
    zak_token: str | None = None

    def __repr__(self) -> str:
        def shown(value: str | None) -> str:
            return "None" if value is None else "<redacted>"

        return (f"JoinRequest(bot_id={self.bot_id!r}, meeting_number={self.meeting_number!r}, "
                f"passcode={shown(self.passcode)}, bot_name={self.bot_name!r}, "
                f"sdk_jwt={shown(self.sdk_jwt)}, obf_token={shown(self.obf_token)}, "
                f"zak_token={shown(self.zak_token)})")


class JoinRefused(Exception):
    """The meeting refused the bot. code: our reason code; retryable: try again with a new token."""

    def __init__(self, code: str, message: str, *, retryable: bool = False,
                 sdk_error: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable
        #: The adapter's own name for what happened (e.g. ``MEETING_FAIL_ON_BEHALF_TOKEN_INVALID``).
        self.sdk_error = sdk_error

    def __repr__(self) -> str:
        return (f"JoinRefused(code={self.code!r}, retryable={self.retryable}, "
                f"sdk_error={self.sdk_error!r}, message={self.message!r})")


@runtime_checkable
class MeetingSession(Protocol):
    """A bot inside a meeting."""

    async def wait_end(self) -> str:
        """Block until the bot is out; return one of :data:`END_REASONS`."""
        ...

    async def leave(self) -> None:
        """Leave the meeting (idempotent); :meth:`wait_end` then returns ``"left"``."""
        ...


@runtime_checkable
class MeetingClient(Protocol):
    """One way of joining meetings (``zoomsim``, ``zoom_sdk``)."""

    name: str

    async def join(self, request: JoinRequest) -> MeetingSession:
        """Join and return once the bot is in the meeting; JoinRefused otherwise."""
        ...

    async def aclose(self) -> None:
        """Release what the client holds (leaving any meeting it is still in)."""
        ...
