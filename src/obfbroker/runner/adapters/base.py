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

from obfbroker.enums import FactEnum

__all__ = [
    "END_REASONS",
    "JOIN_REFUSAL_CODES",
    "RETRYABLE_CODES",
    "EndReason",
    "JoinRefusal",
    "JoinRefused",
    "JoinRequest",
    "MeetingClient",
    "MeetingSession",
    "read_refusal",
]

class JoinRefusal(FactEnum):
    """Why a meeting refused a bot: the code of :class:`JoinRefused` (and the bot's ``reason``
    when it fails on it)."""

    # Each refusal says what it means and whether another attempt, with a newly minted token,
    # is worth it. A comment, not the docstring, which describes the enum.
    description: str
    retryable: bool

    AUTHORIZED_USER_NOT_IN_MEETING = (
        "authorized_user_not_in_meeting", "OBF: the authorizing user has not joined yet", True)
    OBF_TOKEN_INVALID = ("obf_token_invalid", "Zoom refused the OBF token", False)
    OBF_TOKEN_NOT_MATCH_MEETING = (
        "obf_token_not_match_meeting", "The OBF token was minted for another meeting", False)
    ZAK_TOKEN_INVALID = ("zak_token_invalid", "Zoom refused the ZAK token", False)
    MEETING_NOT_FOUND = ("meeting_not_found", "No meeting has this number", False)
    MEETING_ENDED = ("meeting_ended", "The meeting is over, or ended while the bot was joining", False)
    WRONG_PASSCODE = ("wrong_passcode", "The meeting's passcode is wrong", False)
    SDK_AUTH_FAILED = ("sdk_auth_failed", "The Meeting SDK JWT or the app's credentials were refused", False)
    NETWORK_ERROR = ("network_error", "Zoom was unreachable or timed out", True)
    SDK_UNAVAILABLE = ("sdk_unavailable", "The adapter's SDK is not installed or will not load here", False)
    JOIN_DENIED = (
        "join_denied", "The meeting or an account policy keeps the bot out (locked, blocked by an "
        "admin, outside users not allowed)", False)
    JOIN_FAILED = ("join_failed", "Anything else; the message and sdk_error say what", False)


#: Every refusal code, and the ones worth another attempt (with a newly minted token).
JOIN_REFUSAL_CODES: frozenset[str] = frozenset(JoinRefusal)
RETRYABLE_CODES: frozenset[str] = frozenset(code for code in JoinRefusal if code.retryable)

USER_ABSENT = JoinRefusal.AUTHORIZED_USER_NOT_IN_MEETING


def read_refusal(code: str, *, previous: str | None) -> str:
    """What a refusal means given the one before it. Zoom sometimes answers a refused OBF join
    with "meeting ended" although the meeting goes on; right after an "authorizing user not in
    the meeting", such an answer is read as the user still being away (and retried)."""
    if code == JoinRefusal.MEETING_ENDED and previous == USER_ABSENT:
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
