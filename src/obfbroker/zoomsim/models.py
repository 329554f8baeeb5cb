"""Records, lifetimes and typed errors of the Zoom simulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

# Lifetimes in simulated seconds, as documented by Zoom (zoom-platform.md section 1 and 3).
ACCESS_TOKEN_TTL = 3600
ACCESS_TOKEN_EXPIRES_IN = 3599  # Zoom reports one second less than the real lifetime
CODE_TTL = 5 * 60
REFRESH_IDLE_TTL = 90 * 86400
DEFAULT_MINT_TTL = 7200
MAX_MINT_TTL = 90 * 86400
JOIN_TOKEN_TTL = 120  # local-recording join tokens: `expire_in` (zoom-platform.md section 8)

USER_STATUSES = ("active", "inactive", "pending")
# "local_recording" is the join token of GET /v2/meetings/{id}/jointoken/local_recording.
MINT_KINDS = ("onbehalf", "zak", "local_recording")
LOCAL_RECORDING_SCOPE = "meeting_token:read:local_recording"
BOT_STATES = ("in_waiting_room", "in_meeting", "left", "removed")
PRESENT_BOT_STATES = ("in_waiting_room", "in_meeting")  # a bot in one of these is not out yet


def iso_utc(timestamp: float | None) -> str | None:
    """Epoch seconds as ISO 8601 UTC (`+00:00`), the format of meeting timestamps."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


@dataclass
class App:
    """An OAuth app registered with the simulator."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uris: list[str]
    scopes: list[str]
    webhook_url: str | None = None
    webhook_secret_token: str | None = field(default=None, repr=False)

    def public(self) -> dict:
        """The app as the control API shows it: secrets are write-only."""
        return {
            "client_id": self.client_id,
            "redirect_uris": list(self.redirect_uris),
            "scopes": list(self.scopes),
            "webhook_url": self.webhook_url,
            "has_webhook_secret_token": bool(self.webhook_secret_token),
        }


@dataclass
class User:
    """A Zoom user."""

    id: str
    email: str
    display_name: str
    first_name: str
    last_name: str
    account_id: str
    status: str
    type: int
    pmi: int
    timezone: str
    created_at: str

    def public(self) -> dict:
        """The user as the control API shows it."""
        return {
            "id": self.id,
            "email": self.email,
            "display_name": self.display_name,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "account_id": self.account_id,
            "status": self.status,
            "type": self.type,
            "pmi": self.pmi,
            "timezone": self.timezone,
            "created_at": self.created_at,
        }

    def as_api(self, base_url: str) -> dict:
        """The user as `GET /v2/users/me` returns it."""
        return {
            **self.public(),
            "role_name": "Member",
            "use_pmi": False,
            "personal_meeting_url": f"{base_url}/j/{self.pmi}",
            "verified": 1,
            "dept": "",
            "language": "en-US",
            "phone_number": "",
            "role_id": "2",
            "account_number": 10000001,
            "cluster": "sim",
            "user_created_at": self.created_at,
        }


@dataclass
class AuthCode:
    """An authorization code waiting to be exchanged."""

    client_id: str
    user_id: str
    redirect_uri: str
    scopes: list[str]
    expires_at: float
    code_challenge: str | None = None
    code_challenge_method: str | None = None


@dataclass
class Grant:
    """One user's authorization of one app: a refresh token plus its access tokens."""

    id: str
    client_id: str
    user_id: str
    scopes: list[str]
    refresh_token: str = field(repr=False)
    refresh_issued_at: float
    alive: bool = True


@dataclass
class AccessToken:
    """An access token of a grant."""

    grant_id: str
    expires_at: float


@dataclass
class MintedToken:
    """An OBF or ZAK token handed out by `/v2/users/me/token`, or a local-recording join token
    handed out by `/v2/meetings/{id}/jointoken/local_recording` (kind `local_recording`)."""

    kind: str
    grant_id: str
    user_id: str
    client_id: str
    meeting_number: str | None
    expires_at: float
    used: bool = False
    bypass_waiting_room: bool = False  # join tokens only: minted with bypass_waiting_room=true


@dataclass
class TokenSet:
    """What a successful `/oauth/token` call hands out."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    scopes: list[str]

    def as_response(self, api_url: str) -> dict:
        """The JSON body Zoom answers with."""
        return {
            "access_token": self.access_token,
            "token_type": "bearer",
            "refresh_token": self.refresh_token,
            "expires_in": ACCESS_TOKEN_EXPIRES_IN,
            "scope": " ".join(self.scopes),
            "api_url": api_url,
        }


@dataclass
class Bot:
    """A bot that joined a meeting (kept after it is out, so the meeting shows its history)."""

    id: str
    meeting_number: str
    bot_name: str
    client_id: str  # the app whose SDK JWT it joined with
    token_type: str  # "onbehalf" or "zak"
    user_id: str  # the authorizing user (OBF) or the user it joined as (ZAK)
    joined_at: float
    state: str = "in_meeting"  # one of BOT_STATES
    left_at: float | None = None
    end_reason: str | None = None
    used_join_token: bool = False  # joined with a valid local-recording join token

    @property
    def on_behalf_of(self) -> str | None:
        """The authorizing user of an OBF bot; None for a ZAK bot."""
        return self.user_id if self.token_type == "onbehalf" else None

    @property
    def present(self) -> bool:
        """Whether the bot is still in the meeting or its waiting room (not left or removed)."""
        return self.state in PRESENT_BOT_STATES

    def view(self) -> dict:
        """The bot as the control API shows it."""
        return {
            "bot_id": self.id,
            "meeting_number": self.meeting_number,
            "bot_name": self.bot_name,
            "client_id": self.client_id,
            "token_type": self.token_type,
            "on_behalf_of": self.on_behalf_of,
            "zak_user_id": self.user_id if self.token_type == "zak" else None,
            "state": self.state,
            "joined_at": iso_utc(self.joined_at),
            "left_at": iso_utc(self.left_at),
            "end_reason": self.end_reason,
            "used_join_token": self.used_join_token,
            # A join token lets the bot record without asking the host (zoom-platform.md section 8).
            "can_record": self.used_join_token,
        }


@dataclass
class Meeting:
    """A simulated meeting with the users and bots in it."""

    number: str
    passcode: str
    host_user_id: str
    participants: dict[str, float] = field(default_factory=dict)  # user id -> joined at
    bots: list[Bot] = field(default_factory=list)  # every bot that joined, in join order
    ended_at: float | None = None  # the last POST /_sim/meetings/{n}/end
    host_notifications: int = 0  # refused OBF joins whose authorizing user was not in it
    waiting_room: bool = False  # bots wait to be admitted unless a join token bypasses it


class SimError(Exception):
    """Base of every error the simulator answers with."""


class OAuthError(SimError):
    """An `/oauth/token` or `/oauth/revoke` error: `{"reason", "error"}`."""

    def __init__(self, status: int, reason: str, error: str) -> None:
        super().__init__(reason)
        self.status, self.reason, self.error = status, reason, error

    def body(self) -> dict:
        """The JSON body Zoom answers with."""
        return {"reason": self.reason, "error": self.error}


class ApiError(SimError):
    """A REST API error: `{"code", "message"}`."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict:
        """The JSON body Zoom answers with."""
        return {"code": self.code, "message": self.message}


class AuthorizeError(SimError):
    """An authorize request Zoom refuses to show consent for."""

    def __init__(self, error: str, message: str, zoom_code: int | None = None) -> None:
        super().__init__(message)
        self.error, self.message, self.zoom_code = error, message, zoom_code


class ControlError(SimError):
    """A control-API error: `{"error", "message"}`."""

    def __init__(self, status: int, message: str, error: str = "invalid_request") -> None:
        super().__init__(message)
        self.status, self.message, self.error = status, message, error

    def body(self) -> dict:
        """The JSON body of the control API's errors."""
        return {"error": self.error, "message": self.message}


class NotFoundError(ControlError):
    """An unknown id in the control API."""

    def __init__(self, message: str) -> None:
        super().__init__(404, message, "not_found")


class BotJoinError(SimError):
    """A bot's join refused the way the Meeting SDK reports it: `{"error", "code", "message"}`."""

    def __init__(self, status: int, error: str, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.code, self.message = status, error, code, message

    def body(self) -> dict:
        """The JSON body of a refused join."""
        return {"error": self.error, "code": self.code, "message": self.message}


class TokenConsumeError(SimError):
    """An OBF/ZAK/join token a meeting refuses; `reason` is stable, `sdk_error` names the SDK
    failure."""

    def __init__(self, reason: str, message: str, sdk_error: str) -> None:
        super().__init__(message)
        self.reason, self.message, self.sdk_error = reason, message, sdk_error
