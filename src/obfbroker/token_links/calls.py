"""Calling a token link: what a platform's bot does right before it joins.

The checks run in this order, and nothing is minted when one fails:

1. the link exists and the URL's ``key`` is its secret (401 ``invalid_link_credentials``, the same
   answer for an unknown link and a wrong secret; nothing is recorded: nothing ties the call to
   the link's owner);
2. the link has this URL (404 ``token_link_url_not_found``) and the platform calls it this way
   (405); an Attendee call's signature (401 ``invalid_signature``); the meeting the call names is
   well formed (400);
3. the link is active (410 ``token_link_revoked`` / ``_expired`` / ``_used_up``) and under its
   rate (429 ``token_link_rate_limited`` with ``Retry-After``);
4. the meeting: another than the bound one is 403 ``meeting_mismatch``; none where the token needs
   one is 400 ``meeting_number_required``;
5. the connection is connected (409 ``zoom_user_disconnected``);
6. a capped link's use is taken (410 ``token_link_used_up`` when another call took the last one);
7. the mint, through the single-flight ``TokenBroker`` (Zoom's refusals: 409/502/503).

Every call past step 1 is recorded as a use, refused or not (in batches: use_log.py); ``uses``
counts the successful ones.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row

from obfbroker.connections.errors import disconnected
from obfbroker.connections.models import ConnectionState
from obfbroker.connections.tokens import TokenState
from obfbroker.errors import BadRequest, Conflict, ObfError, Unauthorized
from obfbroker.token_links import platforms, repository
from obfbroker.token_links.models import BUNDLE, LinkKind, LinkState, Platform, TokenType, UseStatus
from obfbroker.token_links.platforms import DIALECTS, CallParts
from obfbroker.token_links.service import secret_digest
from obfbroker.token_links.wiring import TokenLinks

log = logging.getLogger(__name__)
RATE_WINDOW = timedelta(minutes=1)
MAX_LINK_ID = 40
MAX_KEY = 100
NEEDS_MEETING = frozenset({TokenType.ONBEHALF, TokenType.LOCAL_RECORDING, BUNDLE})


@dataclass(frozen=True)
class Request:
    """The parts of a call a dialect reads: method, query, headers and, for POST, the body."""

    method: str
    query: Any
    headers: Any
    body: bytes | None = None


@dataclass
class Minted:
    """What a call got: the tokens by type (Attendee: None where a token could not be had)."""

    platform: Platform
    tokens: dict[TokenType, str | None] = field(default_factory=dict)


def _bad_credentials() -> Unauthorized:
    # One answer for an unknown link, a wrong secret, a missing one: nothing to learn by probing.
    return Unauthorized("Unknown token link or wrong key", code="invalid_link_credentials")


def _authenticate(links: TokenLinks, row: Row | None, key: str | None) -> Row:
    presented = secret_digest(links.hasher, key or "")  # computed whatever happens: the same time for all
    if row is None or not key or len(key) > MAX_KEY \
            or not hmac.compare_digest(presented.encode(), row.secret_hash.encode()):
        raise _bad_credentials()
    return row


def _json_object(body: bytes | None) -> dict[str, Any]:
    try:
        value = json.loads(body or b"")
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict):
        raise BadRequest("The request body must be a JSON object", code="invalid_request")
    return value


def _parts(links: TokenLinks, row: Row, platform: Platform, kind: LinkKind, request: Request) -> CallParts:
    """The meeting and bot a call names, in its platform's dialect (Attendee's signature first)."""
    dialect = DIALECTS[platform]
    if (request.method == "POST" and not dialect.accepts_post) or \
            (request.method == "GET" and platform == Platform.ATTENDEE):
        allowed = "POST" if platform == Platform.ATTENDEE else "GET"
        raise ObfError(f"{platform.value} links are called with {allowed}", code="method_not_allowed",
                       status_code=405, headers={"Allow": allowed})
    if platform == Platform.ATTENDEE:
        body = _json_object(request.body)
        key = platforms.attendee_key(links.vault.open(_sealed(row), "platform_secret"))
        platforms.check_attendee_signature(body, request.headers.get("x-webhook-signature"), key)
        return platforms.attendee_call(body)
    if platform == Platform.MEETSTREAM:
        body = _json_object(request.body) if request.method == "POST" else None
        return platforms.meetstream_call(request.query, request.headers, body)
    if platform == Platform.RECALL:
        return platforms.recall_call(request.query)
    return platforms.meetingbaas_call(request.query)


@dataclass(frozen=True)
class _SealedLink:
    """The row's sealed platform_secret, named as the vault binds it (``token_links`` row)."""

    __tablename__ = "token_links"
    id: str
    platform_secret: str | None


def _sealed(row: Row) -> _SealedLink:
    return _SealedLink(row.id, row.platform_secret)


def _meeting(row: Row, parts: CallParts, wanted: TokenType | str) -> str | None:
    bound = row.meeting_number
    if bound is not None and parts.meeting_number is not None and parts.meeting_number != bound:
        raise ObfError(f"This token link is bound to another meeting than {parts.meeting_number}",
                       code="meeting_mismatch", status_code=403)
    meeting = parts.meeting_number or bound
    if meeting is None and wanted in NEEDS_MEETING:
        raise BadRequest("The call names no meeting and the link is bound to none: bind the link to a "
                         "meeting (meeting_link) or add the meeting to the URL (see docs/platforms.md)",
                         code="meeting_number_required")
    return meeting


def _rate_limited(links: TokenLinks, row: Row, limit: int, now: datetime) -> ObfError | None:
    """Over the link's rate: its calls of the last minute, written (the query's) and not yet
    written (this process's use log), all processes' written ones together. Ours rather than a
    rate-limit library's: the count spans processes and is read with the link's row, in the one
    query a call makes."""
    waiting, oldest_waiting = links.uses.waiting(row.id, now - RATE_WINDOW)
    if row.recent_calls + waiting < limit:
        return None
    oldest = min(t for t in (row.oldest_recent, oldest_waiting) if t is not None)
    wait = max(1, math.ceil((oldest + RATE_WINDOW - now).total_seconds()))
    return ObfError(f"This token link answers at most {limit} calls a minute; retry in {wait} s",
                    code="token_link_rate_limited", status_code=429, headers={"Retry-After": str(wait)})


async def call(links: TokenLinks, *, link_id: str, kind: LinkKind, key: str | None,
               request: Request) -> Minted:
    """Check a call to link ``link_id``'s ``kind`` URL and mint what it asks for."""
    now = links.clock.now()
    limit = links.calls_per_minute
    row = None
    if len(link_id) <= MAX_LINK_ID:
        async with links.engine.connect() as conn:
            row = await repository.link_for_call(conn, link_id, since=now - RATE_WINDOW, rate_limit=limit)
    row = _authenticate(links, row, key)
    platform = Platform(row.platform)
    wanted: TokenType | str = DIALECTS[platform].kinds.get(kind, "")
    attempt = _Attempt(links, row, platform, wanted or kind.value, now)
    try:
        if not wanted or kind not in platforms.link_kinds(platform, row.token_types):
            raise ObfError(f"This token link has no {kind.value} URL", code="token_link_url_not_found",
                           status_code=404)
        attempt.parts = _parts(links, row, platform, kind, request)
        state = LinkState.of(revoked_at=row.revoked_at, expires_at=row.expires_at, max_uses=row.max_uses,
                             uses=row.uses, now=now)
        if state != LinkState.ACTIVE:
            raise ObfError(state.refusal, code=state.code, status_code=410)
        limited = _rate_limited(links, row, limit, now)
        if limited is not None:
            raise limited
        attempt.meeting = _meeting(row, attempt.parts, wanted)
        if row.connection_id is None or row.connection_state != ConnectionState.CONNECTED:
            raise disconnected(row.zoom_user_id)
        if row.max_uses is not None:
            async with links.engine.begin() as conn:
                attempt.reserved = await repository.reserve_use(conn, row.id, now=now)
            if not attempt.reserved:
                raise ObfError(LinkState.USED_UP.refusal, code=LinkState.USED_UP.code, status_code=410)
        minted = await attempt.mint(wanted)
    except BaseException as err:
        failure = err if isinstance(err, ObfError) else ObfError(
            "The call ended before a token was minted", code="internal_error", status_code=500)
        # Shielded: a use taken ahead must be given back even if this task is being cancelled.
        await asyncio.shield(attempt.record(failure))
        raise
    await attempt.record(None, minted)
    return minted


@dataclass
class _Attempt:
    """One authenticated call, as it goes: what it names, whether it holds a use, its record."""

    links: TokenLinks
    row: Row
    platform: Platform
    token_type: str
    at: datetime
    parts: CallParts = field(default_factory=CallParts)
    meeting: str | None = None
    reserved: bool = False

    def _known(self) -> TokenState:
        row = self.row
        return TokenState(row.connection_id, row.connection_state, row.access_token,
                          row.access_token_expires_at, row.failing_since)

    async def _mint_one(self, token_type: TokenType) -> str:
        return await self.links.tokens.mint(
            self.row.connection_id, token_type=token_type.value,
            meeting_id=self.meeting if token_type != TokenType.ZAK else None, known=self._known())

    async def mint(self, wanted: TokenType | str) -> Minted:
        minted = Minted(self.platform)
        if wanted != BUNDLE:
            minted.tokens[TokenType(wanted)] = await self._mint_one(TokenType(wanted))
            return minted
        # Attendee: the OBF token or nothing; the others when the link allows them and Zoom
        # gives them (a user who does not host the meeting gets no join token: null).
        minted.tokens[TokenType.ONBEHALF] = await self._mint_one(TokenType.ONBEHALF)
        for extra in (TokenType.LOCAL_RECORDING, TokenType.ZAK):
            if extra.value in self.row.token_types:
                try:
                    minted.tokens[extra] = await self._mint_one(extra)
                except ObfError as err:
                    minted.tokens[extra] = None
                    if not isinstance(err, Conflict) or err.code != "not_meeting_host":
                        log.warning("token link could not add a token to its answer", extra={
                            "link_id": self.row.id, "token_type": extra.value, "code": err.code})
        return minted

    async def record(self, error: ObfError | None, minted: Minted | None = None) -> None:
        """Log the call (in the next batch, use_log.py) and settle its use: counted on success,
        given back at once if it was taken ahead and the call failed. A failure to record never
        changes the answer."""
        links, row = self.links, self.row
        got = [t.value for t, token in (minted.tokens.items() if minted else ()) if token is not None]
        try:
            if error is not None and self.reserved:
                async with links.engine.begin() as conn:
                    await repository.release_use(conn, row.id)
            links.uses.add(
                repository.use_row(
                    row.id, row.account_id, at=self.at, token_type=self.token_type, minted=got,
                    meeting_number=self.meeting or self.parts.meeting_number or row.meeting_number,
                    platform_bot_id=self.parts.platform_bot_id,
                    status=UseStatus.MINTED if error is None else UseStatus.REFUSED,
                    code=None if error is None else error.code),
                # A success counts now unless its use was taken ahead (a capped link).
                add_uses=int(error is None and not self.reserved),
                used_at=self.at if error is None else None)
        except Exception:
            log.exception("token link use not recorded", extra={"link_id": row.id})
        links.metrics.token_link_call(self.platform.value, self.token_type,
                                        "minted" if error is None else error.code)
