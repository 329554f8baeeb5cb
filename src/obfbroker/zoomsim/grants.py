"""OAuth rules of the simulator: codes, grants, rotating refresh tokens, OBF/ZAK/join-token
mints."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Protocol

from obfbroker.zoomsim.models import (
    ACCESS_TOKEN_TTL,
    CODE_TTL,
    MINT_KINDS,
    REFRESH_IDLE_TTL,
    AccessToken,
    ApiError,
    App,
    AuthCode,
    AuthorizeError,
    Grant,
    MintedToken,
    NotFoundError,
    OAuthError,
    TokenConsumeError,
    TokenSet,
    User,
)


class GrantWorld(Protocol):
    """What the grant book needs of the simulator (state.SimState provides it)."""

    apps: dict[str, App]
    users: dict[str, User]
    deleted_users: set[str]

    def now(self) -> float: ...

    def count(self, key: str, user_id: str | None = None) -> None: ...


PKCE_METHODS = ("S256", "plain")
_INVALID_ACCESS = "Invalid access token."
_SDK_TOKEN_INVALID = {
    "onbehalf": "MEETING_FAIL_ON_BEHALF_TOKEN_INVALID",
    "zak": "MEETING_FAIL_ZAK_TOKEN_INVALID",
    "local_recording": "MEETING_FAIL_JOIN_TOKEN_INVALID",
}
# Per kind: token prefix, stats counter of mints, and the name used in refusal messages.
_MINT_PREFIX = {"onbehalf": "simobf_", "zak": "simzak_", "local_recording": "simjoin_"}
_MINT_COUNTER = {"onbehalf": "obf_mints", "zak": "zak_mints", "local_recording": "join_token_mints"}
_KIND_NAME = {"onbehalf": "onbehalf", "zak": "zak", "local_recording": "join"}


def _new_token(prefix: str) -> str:
    return f"{prefix}{secrets.token_urlsafe(32)}"


def _pkce_matches(challenge: str, method: str, verifier: str | None) -> bool:
    if not verifier:
        return False
    if method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        verifier = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return hmac.compare_digest(verifier.encode(), challenge.encode())


class GrantBook:
    """Authorization codes, grants, access tokens and minted meeting tokens of one simulator."""

    def __init__(self, sim: GrantWorld) -> None:
        self._sim = sim
        self._lock = sim.lock
        self.codes: dict[str, AuthCode] = {}
        self.grants: dict[str, Grant] = {}
        self.access: dict[str, AccessToken] = {}
        self.refresh_index: dict[str, str] = {}  # only the current refresh token of each grant
        self.minted: dict[str, MintedToken] = {}

    def validate_authorize(
        self,
        client_id: str | None,
        redirect_uri: str | None,
        code_challenge: str | None = None,
        code_challenge_method: str | None = None,
    ) -> App:
        """Check an authorize request the way Zoom does before showing consent."""
        app = self._sim.apps.get(client_id or "")
        if app is None:
            raise AuthorizeError("invalid_client", f"Invalid client_id: {client_id or ''}", 4700)
        # Zoom compares the redirect URI byte for byte: no normalisation, no prefix match.
        if redirect_uri is None or redirect_uri not in app.redirect_uris:
            raise AuthorizeError("invalid_request", "Redirect URI mismatch.", 4709)
        if code_challenge and (code_challenge_method or "plain") not in PKCE_METHODS:
            raise AuthorizeError("invalid_request", "Unsupported code_challenge_method.")
        return app

    def issue_code(
        self,
        *,
        client_id: str,
        user_id: str,
        redirect_uri: str,
        scopes: list[str] | None = None,
        code_challenge: str | None = None,
        code_challenge_method: str | None = None,
    ) -> str:
        """Record a user's consent and return a fresh authorization code."""
        with self._lock:
            app = self.validate_authorize(
                client_id, redirect_uri, code_challenge, code_challenge_method
            )
            if user_id not in self._sim.users:
                raise NotFoundError(f"User {user_id} does not exist")
            if scopes is None:
                scopes = list(app.scopes)
            unknown = [scope for scope in scopes if scope not in app.scopes]
            if unknown or not scopes:
                raise AuthorizeError("invalid_scope", f"Invalid scope: {' '.join(unknown)}")
            method = (code_challenge_method or "plain") if code_challenge else None
            code = _new_token("simcode_")
            self.codes[code] = AuthCode(
                client_id=client_id,
                user_id=user_id,
                redirect_uri=redirect_uri,
                scopes=list(scopes),
                expires_at=self._sim.now() + CODE_TTL,
                code_challenge=code_challenge or None,
                code_challenge_method=method,
            )
            return code

    def exchange_code(
        self, *, client_id: str, code: str | None, redirect_uri: str | None,
        code_verifier: str | None = None,
    ) -> TokenSet:
        """Trade an authorization code for a new grant; each code works once."""
        with self._lock:
            record = self.codes.get(code or "")
            now = self._sim.now()
            if record is None or record.client_id != client_id or now >= record.expires_at:
                raise OAuthError(400, f"Invalid authorization code {code or ''}".rstrip(),
                                 "invalid_request")
            if redirect_uri != record.redirect_uri:
                raise OAuthError(400, "Redirect URI mismatch.", "invalid_request")
            if record.code_challenge and not _pkce_matches(
                record.code_challenge, record.code_challenge_method or "plain", code_verifier
            ):
                raise OAuthError(400, "Invalid code_verifier.", "invalid_request")
            del self.codes[code]
            grant = Grant(
                id=secrets.token_hex(8),
                client_id=client_id,
                user_id=record.user_id,
                scopes=record.scopes,
                refresh_token=_new_token("simrt_"),
                refresh_issued_at=now,
            )
            self.grants[grant.id] = grant
            self.refresh_index[grant.refresh_token] = grant.id
            self._sim.count("code_grants", grant.user_id)
            return TokenSet(self._new_access_token(grant), grant.refresh_token, grant.scopes)

    def refresh(self, *, client_id: str, refresh_token: str | None) -> TokenSet:
        """Rotate a grant's tokens; the presented refresh token dies at once."""
        with self._lock:
            grant = self.grants.get(self.refresh_index.get(refresh_token or "", ""))
            if grant is None or not grant.alive or grant.client_id != client_id:
                raise self._invalid_grant()
            now = self._sim.now()
            if now - grant.refresh_issued_at >= REFRESH_IDLE_TTL:
                self._kill(grant)
                raise self._invalid_grant()
            del self.refresh_index[grant.refresh_token]
            grant.refresh_token = _new_token("simrt_")
            grant.refresh_issued_at = now
            self.refresh_index[grant.refresh_token] = grant.id
            self._sim.count("refreshes", grant.user_id)
            return TokenSet(self._new_access_token(grant), grant.refresh_token, grant.scopes)

    def revoke(self, *, client_id: str, token: str | None) -> None:
        """Kill the grant an access or current refresh token belongs to."""
        with self._lock:
            grant_id = self.refresh_index.get(token or "")
            if grant_id is None and token in self.access:
                grant_id = self.access[token].grant_id
            grant = self.grants.get(grant_id or "")
            if grant is None or not grant.alive or grant.client_id != client_id:
                raise OAuthError(400, "Invalid Token!", "invalid_request")
            self._kill(grant)
            self._sim.count("revokes", grant.user_id)

    def authenticate(self, access_token: str | None) -> tuple[Grant, User]:
        """The live grant and user behind a bearer access token, or a 401 code 124 (a 404 code
        1001 while the token is unexpired and its user was deleted at Zoom)."""
        with self._lock:
            record = self.access.get(access_token or "")
            grant = self.grants.get(record.grant_id) if record else None
            if record is not None and grant is not None and grant.user_id in self._sim.deleted_users \
                    and self._sim.now() < record.expires_at:
                raise ApiError(404, 1001, f"User does not exist: {grant.user_id}.")
            user = self._sim.users.get(grant.user_id) if grant else None
            if record is None or grant is None or not grant.alive or user is None:
                raise ApiError(401, 124, _INVALID_ACCESS)
            if self._sim.now() >= record.expires_at:
                raise ApiError(401, 124, "Access token is expired.")
            return grant, user

    def mint(self, grant: Grant, *, kind: str, meeting_number: str | None, ttl: int,
             bypass_waiting_room: bool = False) -> str:
        """Hand out a single-use OBF, ZAK or local-recording join token and remember it for the
        meeting side."""
        if kind not in MINT_KINDS:
            raise ValueError(f"unknown token kind {kind!r}")
        with self._lock:
            token = _new_token(_MINT_PREFIX[kind])
            self.minted[token] = MintedToken(
                kind=kind,
                grant_id=grant.id,
                user_id=grant.user_id,
                client_id=grant.client_id,
                meeting_number=meeting_number,
                expires_at=self._sim.now() + ttl,
                bypass_waiting_room=bypass_waiting_room,
            )
            self._sim.count(_MINT_COUNTER[kind], grant.user_id)
            return token

    def consume(
        self, token: str, *, kind: str, client_id: str, meeting_number: str | int | None = None
    ) -> str:
        """Use a minted OBF or ZAK token once for a join; returns the authorizing user's id."""
        return self.consume_record(token, kind=kind, client_id=client_id,
                                   meeting_number=meeting_number).user_id

    def consume_record(
        self, token: str, *, kind: str, client_id: str | None,
        meeting_number: str | int | None = None,
    ) -> MintedToken:
        """Use a minted token once; returns its record or raises TokenConsumeError.

        Checked in order: unknown (or another kind), used, expired, wrong_app (only when
        `client_id` is given), revoked (its grant died), wrong_meeting (OBF and join tokens).
        A refused token stays as it was.
        """
        with self._lock:
            record = self.minted.get(token or "")
            sdk_error = _SDK_TOKEN_INVALID[kind]
            name = _KIND_NAME[kind]

            def refuse(reason: str, message: str, error: str = sdk_error) -> TokenConsumeError:
                return TokenConsumeError(reason, message, error)

            if record is None or record.kind != kind:
                raise refuse("unknown", f"Unknown {name} token")
            if record.used:
                raise refuse("used", f"The {name} token was already used")
            if self._sim.now() >= record.expires_at:
                raise refuse("expired", f"The {name} token has expired")
            if client_id is not None and record.client_id != client_id:
                raise refuse("wrong_app", f"The {name} token was issued to another app")
            grant = self.grants.get(record.grant_id)
            if grant is None or not grant.alive:
                raise refuse("revoked", f"The {name} token's authorization was revoked")
            if kind == "onbehalf" and str(meeting_number) != record.meeting_number:
                raise refuse("wrong_meeting", "The on-behalf token was minted for another meeting",
                              "MEETING_FAIL_ON_BEHALF_TOKEN_NOT_MATCH_MEETING")
            if kind == "local_recording" and str(meeting_number) != record.meeting_number:
                raise refuse("wrong_meeting", "The join token was minted for another meeting")
            record.used = True
            return record

    def expire_user_tokens(self, user_id: str) -> int:
        """Make every access token of the user's live grants expired now."""
        with self._lock:
            now = self._sim.now()
            live = {g.id for g in self.grants.values() if g.user_id == user_id and g.alive}
            expired = 0
            for record in self.access.values():
                if record.grant_id in live and record.expires_at > now:
                    record.expires_at = now
                    expired += 1
            return expired

    def revoke_user_grants(self, user_id: str, client_id: str | None = None) -> int:
        """Kill every live grant of the user (for one app only, when given), telling nobody."""
        with self._lock:
            doomed = [g for g in self.grants.values() if g.user_id == user_id and g.alive
                      and (client_id is None or g.client_id == client_id)]
            for grant in doomed:
                self._kill(grant)
            return len(doomed)

    def forget_user(self, user_id: str) -> int:
        """The user is deleted: their grants die and their unused codes with them; returns how
        many grants died."""
        with self._lock:
            for code in [c for c, record in self.codes.items() if record.user_id == user_id]:
                del self.codes[code]
            return self.revoke_user_grants(user_id)

    def grants_of(self, user_id: str) -> list[dict]:
        """The user's grants as the control API shows them (never a token)."""
        with self._lock:
            return [{"client_id": g.client_id, "alive": g.alive, "scopes": list(g.scopes)}
                    for g in self.grants.values() if g.user_id == user_id]

    def _new_access_token(self, grant: Grant) -> str:
        token = _new_token("simat_")
        self.access[token] = AccessToken(grant.id, self._sim.now() + ACCESS_TOKEN_TTL)
        return token

    def _kill(self, grant: Grant) -> None:
        grant.alive = False
        self.refresh_index.pop(grant.refresh_token, None)

    def _invalid_grant(self) -> OAuthError:
        self._sim.count("invalid_grant")
        return OAuthError(400, "Invalid Token!", "invalid_grant")
