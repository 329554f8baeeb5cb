"""Async client for Zoom's OAuth host and REST API.

The client makes exactly one HTTP request per call and never retries: callers own the retry
policy (a retried refresh could burn a rotated refresh token). Every failure is a typed
:mod:`obfbroker.zoom.errors` exception whose text holds no code, token or secret, and which never
chains the HTTP library's exception behind it. Each call is reported to ``on_call`` (the runtime's
metrics) with its endpoint template, duration and failure, if any.

The HTTP client is aiohttp, on the token path because it is cheap: one mint's round trip to Zoom
costs about a tenth of the CPU it cost through httpx (whose connection pool checks every idle
connection's socket on each request; docs/benchmarks.md). One session per client, kept alive,
no cookies kept, no redirects followed; proxies from ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY``
as httpx honoured them (resolved once per host, never ``~/.netrc``).
"""

from __future__ import annotations

import base64
import functools
import json
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib.metadata import version
from typing import Any, Literal, overload
from urllib.parse import urlsplit

import aiohttp

from obfbroker.tls import client_context
from obfbroker.zoom.errors import ZoomError, ZoomUnavailable, api_error, token_error

__all__ = ["AppCredentials", "TokenGrant", "ZoomClient", "ZoomUser"]

# Zoom's answers are a few hundred bytes; anything far larger is not Zoom talking.
MAX_BODY_BYTES = 1024 * 1024
# Zoom documents a one-hour access token; used only if a 200 answer leaves out expires_in.
DEFAULT_EXPIRES_IN = 3599


@dataclass(frozen=True)
class AppCredentials:
    """A Zoom app's OAuth client id and secret."""

    client_id: str
    client_secret: str

    def __repr__(self) -> str:
        return f"AppCredentials(client_id={self.client_id!r}, client_secret='***')"

    def basic_auth_header(self) -> str:
        raw = f"{self.client_id}:{self.client_secret}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True)
class TokenGrant:
    """Tokens from ``/oauth/token``. ``expires_in`` counts seconds from when Zoom answered."""

    access_token: str
    refresh_token: str
    expires_in: int
    scopes: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        return (f"TokenGrant(access_token='***', refresh_token='***', "
                f"expires_in={self.expires_in}, scopes={sorted(self.scopes)!r})")

    @overload
    def expires_at(self, now: datetime) -> datetime: ...
    @overload
    def expires_at(self, now: float) -> float: ...

    def expires_at(self, now: datetime | float) -> datetime | float:
        """When the access token expires: ``now`` plus ``expires_in``, in the type of ``now``."""
        if isinstance(now, datetime):
            return now + timedelta(seconds=self.expires_in)
        return now + self.expires_in


@dataclass(frozen=True)
class ZoomUser:
    """``GET /users/me``. ``raw`` keeps every field Zoom sent."""

    id: str
    account_id: str | None
    email: str | None
    display_name: str | None
    status: str | None
    first_name: str | None
    last_name: str | None
    type: int | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ZoomUser:
        """Build from Zoom's JSON; raises ``ValueError`` if there is no usable ``id``."""
        user_id = data.get("id")
        if not isinstance(user_id, str) or not user_id:
            raise ValueError("user without id")
        first, last = _opt_str(data, "first_name"), _opt_str(data, "last_name")
        display = _opt_str(data, "display_name")
        if not display:
            display = " ".join(part for part in (first, last) if part) or None
        user_type = data.get("type")
        if isinstance(user_type, str) and user_type.isdigit():
            user_type = int(user_type)
        if not isinstance(user_type, int) or isinstance(user_type, bool):
            user_type = None
        return cls(id=user_id, account_id=_opt_str(data, "account_id"),
                   email=_opt_str(data, "email"), display_name=display,
                   status=_opt_str(data, "status"), first_name=first, last_name=last,
                   type=user_type, raw=dict(data))


def _opt_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class _Reply:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes


def _grant_from_json(data: dict[str, Any], *, fallback_refresh: str | None) -> TokenGrant:
    """Parse a token answer; raises ``ValueError`` when it lacks the tokens themselves."""
    access = data.get("access_token")
    refresh = data.get("refresh_token") or fallback_refresh
    if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh:
        raise ValueError("token answer without tokens")
    # Lenient on everything else: refusing a 200 after Zoom rotated the refresh token would
    # lose the new one and with it the user's connection.
    expires_in = data.get("expires_in")
    if isinstance(expires_in, str) and expires_in.strip().isdigit():
        expires_in = int(expires_in)
    if not isinstance(expires_in, int) or isinstance(expires_in, bool) or expires_in < 0:
        expires_in = DEFAULT_EXPIRES_IN
    scope = data.get("scope")
    if isinstance(scope, str):
        scopes = frozenset(scope.split())
    elif isinstance(scope, list):
        scopes = frozenset(s for s in scope if isinstance(s, str) and s)
    else:
        scopes = frozenset()
    return TokenGrant(access_token=access, refresh_token=refresh, expires_in=expires_in,
                      scopes=scopes)


def _json_object(reply: _Reply) -> dict[str, Any] | None:
    try:
        data = json.loads(reply.body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


# (endpoint template, seconds, the failure or None): what a call reports to ``on_call``.
CallObserver = Callable[[str, float, ZoomError | None], None]


def _observed(endpoint: str):
    """Report each call of the decorated method to the client's ``on_call`` under ``endpoint``,
    a template (never a path holding an id)."""

    def decorate(method):
        @functools.wraps(method)
        async def call(self: ZoomClient, *args, **kwargs):
            started = time.perf_counter()
            try:
                result = await method(self, *args, **kwargs)
            except ZoomError as err:
                self._report(endpoint, started, err)
                raise
            self._report(endpoint, started, None)
            return result

        return call

    return decorate


# One pool per process: up to 100 connections to Zoom, each kept alive 30 s once idle, so a
# burst of mints doesn't close and reopen TLS connections.
POOL_SIZE, KEEPALIVE_SECONDS = 100, 30
USER_AGENT = f"obfbroker/{version('obfbroker')}"


def _proxy_for(url: str) -> str | None:
    """The proxy the environment names for ``url`` (``HTTPS_PROXY``, ``HTTP_PROXY``,
    ``ALL_PROXY``, lower case too), or None when there is none or ``NO_PROXY`` covers its host."""
    proxies = urllib.request.getproxies_environment()
    parts = urlsplit(url)
    if not proxies or urllib.request.proxy_bypass_environment(parts.hostname or "", proxies):
        return None
    return proxies.get(parts.scheme) or proxies.get("all")


class ZoomClient:
    """One instance per process is enough; it pools connections to both hosts. Its HTTP session
    is made on the first call, in the event loop that makes it (``session``: one of the caller's,
    which it never closes)."""

    def __init__(self, *, oauth_url: str, api_url: str, timeout: float = 10.0,
                 session: aiohttp.ClientSession | None = None, on_call: CallObserver | None = None):
        self._on_call = on_call
        self._oauth_url = oauth_url.rstrip("/")
        self._api_url = api_url.rstrip("/")
        self._timeout = timeout
        self._deadline = aiohttp.ClientTimeout(total=timeout)
        self._owns_session = session is None
        self._session = session
        self._proxies = {base: _proxy_for(base) for base in (self._oauth_url, self._api_url)}

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=POOL_SIZE, keepalive_timeout=KEEPALIVE_SECONDS,
                                             ssl=client_context())
            # No cookie jar: nothing Zoom sets for one user's call may ride along with another's.
            self._session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                                  headers={"User-Agent": USER_AGENT}, trust_env=False)
        return self._session

    async def aclose(self) -> None:
        """Close the HTTP session, unless it was handed in by the caller."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> ZoomClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _report(self, endpoint: str, started: float, error: ZoomError | None) -> None:
        if self._on_call is not None:
            self._on_call(endpoint, time.perf_counter() - started, error)

    # -- OAuth ---------------------------------------------------------------------------------

    @_observed("/oauth/token")
    async def exchange_code(self, credentials: AppCredentials, *, code: str, redirect_uri: str,
                            code_verifier: str | None = None) -> TokenGrant:
        """Trade an authorization code (single use, 5 minutes) for a token pair."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier is not None:
            form["code_verifier"] = code_verifier
        secrets = [code, code_verifier or "", credentials.client_secret]
        data = await self._token_call(credentials, "/oauth/token", form, secrets)
        return self._parse_grant(data, fallback_refresh=None)

    @_observed("/oauth/token")
    async def refresh(self, credentials: AppCredentials, *, refresh_token: str) -> TokenGrant:
        """Rotate the token pair. The old refresh token is dead once Zoom answers 200."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        secrets = [refresh_token, credentials.client_secret]
        data = await self._token_call(credentials, "/oauth/token", form, secrets)
        # Zoom always rotates; should an answer leave the refresh token out, the sent one is
        # the only one that can still be valid.
        return self._parse_grant(data, fallback_refresh=refresh_token)

    @_observed("/oauth/revoke")
    async def revoke(self, credentials: AppCredentials, *, token: str) -> None:
        """Revoke an access or refresh token (and with it the user's grant of the app)."""
        await self._token_call(credentials, "/oauth/revoke", {"token": token},
                               [token, credentials.client_secret], want_json=False)

    # -- REST ----------------------------------------------------------------------------------

    @_observed("/users/me")
    async def get_me(self, access_token: str) -> ZoomUser:
        """``GET /users/me``: the user who authorized the access token."""
        data = await self._api_get("/users/me", access_token)
        try:
            return ZoomUser.from_json(data)
        except ValueError:
            pass
        raise ZoomUnavailable("Zoom returned a user without an id", status_code=200)

    @_observed("/users/me/token")
    async def mint_token(self, access_token: str, *, token_type: Literal["onbehalf", "zak"],
                         meeting_id: str | None = None, ttl: int | None = None) -> str:
        """``GET /users/me/token``: a fresh OBF (``onbehalf``) or ZAK token."""
        if token_type not in ("onbehalf", "zak"):
            raise ValueError("token_type must be 'onbehalf' or 'zak'")
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0):
            raise ValueError("ttl must be a positive number of seconds")
        params: dict[str, str] = {"type": token_type}
        if meeting_id is not None:
            params["meeting_id"] = str(meeting_id)
        if ttl is not None:
            params["ttl"] = str(ttl)
        data = await self._api_get("/users/me/token", access_token, params=params)
        token = data.get("token")
        if isinstance(token, str) and token:
            return token
        raise ZoomUnavailable("Zoom returned no token", status_code=200)

    @_observed("/meetings/{meetingId}/jointoken/local_recording")
    async def local_recording_join_token(self, access_token: str, *, meeting_id: str,
                                         bypass_waiting_room: bool = True) -> str:
        """``GET /meetings/{meetingId}/jointoken/local_recording``: a single-use token, minted with
        the meeting host's grant, that lets a bot record (and, with ``bypass_waiting_room``, skip
        the waiting room) in that meeting."""
        if not (meeting_id.isascii() and meeting_id.isdigit()):
            raise ValueError("meeting_id must be the meeting's digits")
        params = {"bypass_waiting_room": "true"} if bypass_waiting_room else None
        data = await self._api_get(f"/meetings/{meeting_id}/jointoken/local_recording", access_token,
                                   params=params)
        token = data.get("token")
        if isinstance(token, str) and token:
            return token
        raise ZoomUnavailable("Zoom returned no join token", status_code=200)

    # -- plumbing ------------------------------------------------------------------------------

    async def _token_call(self, credentials: AppCredentials, path: str, form: dict[str, str],
                          secrets: list[str], *, want_json: bool = True) -> dict[str, Any]:
        # Secrets go in the form body only: query strings end up in access logs.
        headers = {"Authorization": credentials.basic_auth_header(),
                   "Accept": "application/json"}
        reply = await self._send("POST", self._oauth_url, path, headers=headers, data=form)
        if not 200 <= reply.status < 300:
            raise token_error(reply.status, reply.headers, reply.body, secrets)
        if not want_json:
            return {}
        data = _json_object(reply)
        if data is None:
            raise ZoomUnavailable("Zoom's token answer is not a JSON object",
                                  status_code=reply.status)
        return data

    def _parse_grant(self, data: dict[str, Any], *, fallback_refresh: str | None) -> TokenGrant:
        try:
            return _grant_from_json(data, fallback_refresh=fallback_refresh)
        except ValueError:
            pass
        raise ZoomUnavailable("Zoom's token answer lacks the tokens", status_code=200)

    async def _api_get(self, path: str, access_token: str, *,
                       params: dict[str, str] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        reply = await self._send("GET", self._api_url, path, headers=headers, params=params)
        if not 200 <= reply.status < 300:
            raise api_error(reply.status, reply.headers, reply.body, [access_token])
        data = _json_object(reply)
        if data is None:
            raise ZoomUnavailable("Zoom's answer is not a JSON object", status_code=reply.status)
        return data

    async def _send(self, method: str, base: str, path: str, *, headers: dict[str, str],
                    data: dict[str, str] | None = None,
                    params: dict[str, str] | None = None) -> _Reply:
        """One request with an overall deadline of ``timeout`` seconds, its answer read whole (at
        most ``MAX_BODY_BYTES``).

        HTTP failures become :class:`ZoomUnavailable` raised *outside* the ``except`` block, so
        neither ``__cause__`` nor ``__context__`` carries the library's exception or its request.
        """
        failure: str
        try:
            async with self._http().request(method, base + path, headers=headers, data=data, params=params,
                                             allow_redirects=False, timeout=self._deadline,
                                             proxy=self._proxies[base]) as response:
                body = await _read_capped(response)
                return _Reply(response.status, response.headers, body)
        except TimeoutError:
            failure = f"Zoom did not answer within {self._timeout:g} s"
        except aiohttp.ClientConnectionError as exc:
            failure = ("could not connect to Zoom" if isinstance(exc, aiohttp.ClientConnectorError)
                       else f"request to Zoom failed ({type(exc).__name__})")
        except aiohttp.ClientError as exc:
            failure = f"request to Zoom failed ({type(exc).__name__})"
        raise ZoomUnavailable(failure)


async def _read_capped(response: aiohttp.ClientResponse) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ZoomUnavailable("Zoom's answer is too large", status_code=response.status)
        chunks.append(chunk)
    return b"".join(chunks)
