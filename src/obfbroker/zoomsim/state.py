"""In-memory state of one Zoom simulator: clock, apps, users, grants, meetings, faults, stats."""

from __future__ import annotations

import random
import secrets
import string
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from obfbroker.zoomsim.bots import OBF_REFUSALS, BotBook, MeetingSignals
from obfbroker.zoomsim.grants import GrantBook
from obfbroker.zoomsim.models import (
    JOIN_TOKEN_TTL,
    USER_STATUSES,
    ApiError,
    App,
    ControlError,
    Grant,
    Meeting,
    MintedToken,
    NotFoundError,
    User,
    iso_utc,
)

STAT_KEYS = (
    "code_grants", "refreshes", "invalid_grant", "revokes", "obf_mints", "zak_mints",
    "token_requests", "revoke_requests", "users_me", "token_mint_requests",
    "faults_5xx", "faults_429", "deauthorizations", "webhooks_sent", "webhook_failures",
    "bot_joins", "bot_join_refusals", "host_notifications",
    "join_token_mints", "join_token_requests",
)
PER_USER_KEYS = ("code_grants", "refreshes", "revokes", "obf_mints", "zak_mints", "join_token_mints")
_ID_ALPHABET = string.ascii_letters + string.digits


def _zoom_id() -> str:
    """A 22-character id shaped like Zoom's user and account ids."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(22))


@dataclass
class Faults:
    """Fault injection applied to every Zoom-facing endpoint."""

    rate_5xx: float = 0.0
    rate_429: float = 0.0
    latency_ms: int = 0
    obf_refusal: str = "AUTHORIZED_USER_NOT_INMEETING"  # one of bots.OBF_REFUSALS


class SimState:
    """Everything one simulator knows; thread-safe so tests may poke it beside the server."""

    def __init__(self, seeder: Callable[[SimState], None] | None = None) -> None:
        self.lock = threading.RLock()
        self._seeder = seeder
        self._random = random.Random()
        self.signals = MeetingSignals()  # outlives resets, so a reset wakes every long-poll
        self.reset()

    # -- lifecycle and clock -------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything (clock, faults and stats included), then re-seed if seeded."""
        with self.lock:
            self.clock_offset = 0.0
            self.apps: dict[str, App] = {}
            self.users: dict[str, User] = {}
            self.deleted_users: set[str] = set()  # their access tokens answer 404 code 1001
            self.meetings: dict[str, Meeting] = {}
            self.faults = Faults()
            self._fault_variant = 0
            self._stats: Counter[str] = Counter()
            self._per_user: dict[str, Counter[str]] = {}
            self.default_account_id = _zoom_id()
            self.grants = GrantBook(self)
            self.bots = BotBook(self)
            if self._seeder is not None:
                self._seeder(self)
            self.signals.wake_all()

    def now(self) -> float:
        """Simulated time, epoch seconds: real time plus every clock advance."""
        return time.time() + self.clock_offset

    def now_iso(self) -> str:
        """Simulated time as ISO 8601 UTC."""
        return datetime.fromtimestamp(self.now(), UTC).isoformat().replace("+00:00", "Z")

    def advance_clock(self, seconds: float) -> str:
        """Move simulated time forward; returns the new time."""
        if seconds < 0:
            raise ControlError(400, "advance_seconds must not be negative")
        with self.lock:
            self.clock_offset += seconds
            return self.now_iso()

    # -- apps and users -------------------------------------------------------------------

    def register_app(
        self,
        *,
        client_id: str,
        client_secret: str,
        redirect_uris: list[str],
        scopes: list[str],
        webhook_url: str | None = None,
        webhook_secret_token: str | None = None,
    ) -> tuple[App, bool]:
        """Create or replace an OAuth app; returns it and whether it is new."""
        with self.lock:
            created = client_id not in self.apps
            app = App(client_id, client_secret, list(redirect_uris), list(scopes),
                      webhook_url, webhook_secret_token)
            self.apps[client_id] = app
            return app, created

    def update_app(self, client_id: str, **changes: object) -> App:
        """Change some fields of an app (e.g. its webhook URL once the broker knows it)."""
        with self.lock:
            app = self.get_app(client_id)
            for name, value in changes.items():
                if not hasattr(app, name) or name == "client_id":
                    raise ControlError(400, f"Unknown app field {name}")
                if value is None and name in ("client_secret", "redirect_uris", "scopes"):
                    raise ControlError(400, f"{name} cannot be null")
                setattr(app, name, value)
            return app

    def get_app(self, client_id: str) -> App:
        """An app by client id, or 404."""
        app = self.apps.get(client_id)
        if app is None:
            raise NotFoundError(f"App {client_id} does not exist")
        return app

    def check_client(self, client_id: str | None, client_secret: str | None) -> App | None:
        """The app these credentials belong to, or None when they are wrong."""
        app = self.apps.get(client_id or "")
        if app is None or client_secret is None:
            return None
        if not secrets.compare_digest(app.client_secret.encode(), client_secret.encode()):
            return None
        return app

    def create_user(
        self,
        *,
        email: str,
        display_name: str,
        account_id: str | None = None,
        status: str = "active",
        user_id: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        timezone: str = "UTC",
        user_type: int = 2,
        pmi: int | None = None,
    ) -> User:
        """Create a Zoom user; ids and emails are unique."""
        if status not in USER_STATUSES:
            raise ControlError(400, f"status must be one of {', '.join(USER_STATUSES)}")
        with self.lock:
            user_id = user_id or _zoom_id()
            if user_id in self.users:
                raise ControlError(409, f"User {user_id} already exists", "conflict")
            if any(u.email.lower() == email.lower() for u in self.users.values()):
                raise ControlError(409, f"User with email {email} already exists", "conflict")
            first, _, last = display_name.partition(" ")
            user = User(
                id=user_id,
                email=email,
                display_name=display_name,
                first_name=first_name if first_name is not None else first,
                last_name=last_name if last_name is not None else last,
                account_id=account_id or self.default_account_id,
                status=status,
                type=user_type,
                pmi=pmi or 1000000000 + secrets.randbelow(8999999999),
                timezone=timezone,
                created_at=self.now_iso(),
            )
            self.users[user.id] = user
            self.deleted_users.discard(user.id)  # an id given again is a new user
            return user

    def get_user(self, user_id: str) -> User:
        """A user by id, or 404."""
        user = self.users.get(user_id)
        if user is None:
            raise NotFoundError(f"User {user_id} does not exist")
        return user

    def deauthorize(self, user_id: str, client_id: str) -> tuple[User, App, int]:
        """The user removes the app: its grants for that app die; returns (user, app, grants killed).

        Sending the `app_deauthorized` webhook is the caller's job (outside the lock).
        """
        with self.lock:
            user = self.get_user(user_id)
            app = self.get_app(client_id)
            revoked = self.grants.revoke_user_grants(user_id, client_id)
            self.count("deauthorizations")
            return user, app, revoked

    def delete_user(self, user_id: str) -> int:
        """The user is deleted at Zoom: their grants die (refresh: invalid_grant), they leave
        every meeting, and API calls with their unexpired access tokens answer 404 code 1001.
        Returns how many grants died."""
        with self.lock:
            self.get_user(user_id)
            revoked = self.grants.forget_user(user_id)
            for meeting in self.meetings.values():
                if meeting.participants.pop(user_id, None) is not None:
                    self.bots.user_left(meeting, user_id)
            del self.users[user_id]
            self.deleted_users.add(user_id)
            return revoked

    def list_apps(self) -> list[App]:
        """Every app, in registration order."""
        with self.lock:
            return list(self.apps.values())

    def list_users(self) -> list[User]:
        """Every user, in creation order."""
        with self.lock:
            return list(self.users.values())

    def active_users(self) -> list[User]:
        """Users who can sign in on the consent page."""
        with self.lock:
            return [u for u in self.users.values() if u.status == "active"]

    def consume_obf_token(self, token: str, meeting_number: str | int, client_id: str) -> str:
        """Use an OBF token for one join of a meeting by the app's bot; returns the user id."""
        # TokenConsumeError.reason: unknown, used, expired, wrong_app, revoked, wrong_meeting.
        return self.grants.consume(token, kind="onbehalf", client_id=client_id,
                                   meeting_number=meeting_number)

    def consume_zak_token(self, token: str, client_id: str) -> str:
        """Use a ZAK token for one join; returns the user id or raises TokenConsumeError."""
        return self.grants.consume(token, kind="zak", client_id=client_id)

    def mint_join_token(self, grant: Grant, meeting_id: str, *,
                        bypass_waiting_room: bool = False) -> str:
        """A single-use local-recording join token for a meeting the grant's user hosts (valid
        JOIN_TOKEN_TTL s); ApiError 404 code 3001 for an unknown meeting, 400 code 3003 for a
        grant of anyone but the host. An ended meeting still mints (bots are refused there)."""
        with self.lock:
            meeting = self.meetings.get(meeting_id)  # numbers only: "abc" is unknown too
            if meeting is None:
                raise ApiError(404, 3001, f"Meeting does not exist: {meeting_id}.")
            if meeting.host_user_id != grant.user_id:
                raise ApiError(400, 3003, "Not meeting host.")
            return self.grants.mint(grant, kind="local_recording", meeting_number=meeting.number,
                                    ttl=JOIN_TOKEN_TTL, bypass_waiting_room=bypass_waiting_room)

    def consume_join_token(self, token: str, meeting_number: str | int) -> MintedToken:
        """Use a local-recording join token for one join of a meeting; returns its record (with
        `bypass_waiting_room`, `client_id`, `user_id`) or raises TokenConsumeError with `reason`
        unknown, used, expired, revoked or wrong_meeting. The joining app is not checked."""
        return self.grants.consume_record(token, kind="local_recording", client_id=None,
                                          meeting_number=meeting_number)

    # -- meetings -------------------------------------------------------------------------

    def create_meeting(self, host_user_id: str, *, waiting_room: bool = False) -> Meeting:
        """Start a meeting hosted by a known user, with or without a waiting room for bots."""
        with self.lock:
            self.get_user(host_user_id)
            while True:
                # 10 or 11 digits, like real meeting numbers.
                number = str(1_000_000_000 + secrets.randbelow(90_000_000_000))
                if number not in self.meetings:
                    break
            passcode = "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))
            meeting = Meeting(number, passcode, host_user_id, waiting_room=waiting_room)
            self.meetings[number] = meeting
            return meeting

    def list_meetings(self) -> list[Meeting]:
        """Every meeting, in creation order."""
        with self.lock:
            return list(self.meetings.values())

    def get_meeting(self, number: str) -> Meeting:
        """A meeting by number, or 404."""
        meeting = self.meetings.get(str(number))
        if meeting is None:
            raise NotFoundError(f"Meeting {number} does not exist")
        return meeting

    def join_meeting(self, number: str, user_id: str) -> Meeting:
        """A user joins a meeting (joining twice is a no-op)."""
        with self.lock:
            meeting = self.get_meeting(number)
            self.get_user(user_id)
            meeting.participants.setdefault(user_id, self.now())
            return meeting

    def leave_meeting(self, number: str, user_id: str) -> Meeting:
        """A user leaves a meeting, and so does every bot there on their behalf; 404 when they
        were not in it."""
        with self.lock:
            meeting = self.get_meeting(number)
            if meeting.participants.pop(user_id, None) is None:
                raise NotFoundError(f"User {user_id} is not in meeting {number}")
            self.bots.user_left(meeting, user_id)
            return meeting

    def end_meeting(self, number: str) -> Meeting:
        """The host ends the meeting: every participant and every bot is out."""
        with self.lock:
            meeting = self.get_meeting(number)
            meeting.participants.clear()
            self.bots.meeting_ended(meeting)
            meeting.ended_at = self.now()
            return meeting

    def meeting_view(self, meeting: Meeting) -> dict:
        """A meeting as the control API shows it."""
        with self.lock:
            participants = []
            for user_id, joined_at in meeting.participants.items():
                user = self.users.get(user_id)
                participants.append({
                    "user_id": user_id,
                    "display_name": user.display_name if user else None,
                    "joined_at": iso_utc(joined_at),
                })
            return {
                "meeting_number": meeting.number,
                "passcode": meeting.passcode,
                # A real-looking Zoom link: meetings are found by number, and obfbroker only
                # accepts links on Zoom's hosts.
                "join_url": f"https://zoom.us/j/{meeting.number}?pwd={meeting.passcode}",
                "host_user_id": meeting.host_user_id,
                "waiting_room": meeting.waiting_room,
                "participants": participants,
                "bots": [bot.view() for bot in meeting.bots],
                "ended_at": iso_utc(meeting.ended_at),
                "host_notifications": meeting.host_notifications,
            }

    # -- faults and stats -----------------------------------------------------------------

    def set_faults(self, **changes: float | int | str | None) -> Faults:
        """Change some fault settings; None leaves a setting as it is."""
        refusal = changes.get("obf_refusal")
        if refusal is not None and refusal not in OBF_REFUSALS:
            raise ControlError(400, f"obf_refusal must be one of {', '.join(OBF_REFUSALS)}")
        with self.lock:
            for name, value in changes.items():
                if value is not None:
                    setattr(self.faults, name, value)
            return Faults(**asdict(self.faults))

    def draw_fault(self) -> tuple[str | None, int]:
        """Decide the fate of one Zoom-facing request: (None | "429" | "5xx", 5xx variant)."""
        with self.lock:
            if self.faults.rate_429 and self._random.random() < self.faults.rate_429:
                self.count("faults_429")
                return "429", 0
            if self.faults.rate_5xx and self._random.random() < self.faults.rate_5xx:
                self.count("faults_5xx")
                self._fault_variant += 1
                return "5xx", self._fault_variant - 1
            return None, 0

    def count(self, key: str, user_id: str | None = None) -> None:
        """Bump a stats counter (and the user's own, when given)."""
        with self.lock:
            self._stats[key] += 1
            if user_id is not None:
                self._per_user.setdefault(user_id, Counter())[key] += 1

    def stats(self) -> dict:
        """Every counter, with a per-user breakdown."""
        with self.lock:
            totals = {key: self._stats.get(key, 0) for key in STAT_KEYS}
            totals.update(self._stats)
            per_user = {
                uid: {key: counts.get(key, 0) for key in PER_USER_KEYS}
                for uid, counts in self._per_user.items()
            }
            refusals = dict(sorted(self.bots.refusals.items()))
            return {**totals, "bot_join_refusals_by_error": refusals, "per_user": per_user}
