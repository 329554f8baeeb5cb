"""Happy paths of ZoomClient against a fake Zoom on loopback: what is sent and what is parsed."""

from __future__ import annotations

import asyncio
import base64
import logging
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from obfbroker.zoom.client import AppCredentials, TokenGrant, ZoomClient, ZoomUser
from obfbroker.zoom.errors import ZoomUnavailable
from tests.support.http import TLS
from tests.zoom.fake_zoom import FakeZoom, Reply, Seen
from tests.zoom.helpers import (
    ACCESS,
    CLIENT_ID,
    CLIENT_SECRET,
    CODE,
    CREDS,
    NEW_ACCESS,
    NEW_REFRESH,
    OBF,
    REDIRECT,
    REFRESH,
    SECRETS,
    VERIFIER,
    assert_no_secrets,
    call,
)

TOKEN_BODY = {
    "access_token": NEW_ACCESS, "token_type": "bearer", "refresh_token": NEW_REFRESH,
    "expires_in": 3599, "scope": "user:read:user user:read:token",
    "api_url": "https://api.zoom.us",
}


def only_request(zoom: FakeZoom) -> Seen:
    sent = zoom.seen()
    assert len(sent) == 1, "the client must send exactly one request"
    return sent[0]


def assert_basic_form_request(seen: Seen, path: str) -> None:
    assert seen.method == "POST"
    assert seen.path == path
    assert seen.query == ""  # codes and tokens never travel in the query string
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert seen.headers["authorization"] == f"Basic {expected}"
    assert seen.headers["content-type"].startswith("application/x-www-form-urlencoded")


def test_exchange_code_sends_basic_auth_and_form(zoom: FakeZoom) -> None:
    zoom.on("POST", "/oauth/token", Reply(json=TOKEN_BODY))
    grant = call(zoom.url, "exchange_code", CREDS, code=CODE, redirect_uri=REDIRECT,
                 code_verifier=VERIFIER)

    seen = only_request(zoom)
    assert_basic_form_request(seen, "/oauth/token")
    assert seen.form == {"grant_type": "authorization_code", "code": CODE,
                         "redirect_uri": REDIRECT, "code_verifier": VERIFIER}
    assert grant == TokenGrant(access_token=NEW_ACCESS, refresh_token=NEW_REFRESH,
                               expires_in=3599,
                               scopes=frozenset({"user:read:user", "user:read:token"}))


def test_exchange_code_without_pkce_sends_no_verifier(zoom: FakeZoom) -> None:
    zoom.on("POST", "/oauth/token", Reply(json=TOKEN_BODY))
    call(zoom.url, "exchange_code", CREDS, code=CODE, redirect_uri=REDIRECT)
    assert "code_verifier" not in only_request(zoom).form


def test_refresh_sends_refresh_grant(zoom: FakeZoom) -> None:
    zoom.on("POST", "/oauth/token", Reply(json=TOKEN_BODY))
    grant = call(zoom.url, "refresh", CREDS, refresh_token=REFRESH)

    seen = only_request(zoom)
    assert_basic_form_request(seen, "/oauth/token")
    assert seen.form == {"grant_type": "refresh_token", "refresh_token": REFRESH}
    assert (grant.access_token, grant.refresh_token) == (NEW_ACCESS, NEW_REFRESH)


def test_refresh_is_lenient_about_everything_but_the_access_token(zoom: FakeZoom) -> None:
    # Rejecting a 200 after Zoom rotated would lose the connection; keep what can be kept.
    zoom.on("POST", "/oauth/token", Reply(json={"access_token": NEW_ACCESS}))
    grant = call(zoom.url, "refresh", CREDS, refresh_token=REFRESH)
    assert grant.refresh_token == REFRESH
    assert grant.expires_in > 0
    assert grant.scopes == frozenset()


def test_expires_in_as_string_and_scope_with_extra_spaces(zoom: FakeZoom) -> None:
    body = dict(TOKEN_BODY, expires_in="1800", scope="  a:b   c:d ")
    zoom.on("POST", "/oauth/token", Reply(json=body))
    grant = call(zoom.url, "refresh", CREDS, refresh_token=REFRESH)
    assert grant.expires_in == 1800
    assert grant.scopes == frozenset({"a:b", "c:d"})


def test_revoke_sends_token_in_form(zoom: FakeZoom) -> None:
    zoom.on("POST", "/oauth/revoke", Reply(json={"status": "success"}))
    assert call(zoom.url, "revoke", CREDS, token=REFRESH) is None

    seen = only_request(zoom)
    assert_basic_form_request(seen, "/oauth/revoke")
    assert seen.form == {"token": REFRESH}


def test_get_me_uses_bearer_header(zoom: FakeZoom) -> None:
    body = {"id": "KdYKjnimT4KPd8FFgQt9FQ", "account_id": "acc1", "email": "jane@example.com",
            "display_name": "Jane D.", "first_name": "Jane", "last_name": "Doe", "type": 2,
            "status": "active", "pmi": 3542471135, "timezone": "Europe/Paris"}
    zoom.on("GET", "/v2/users/me", Reply(json=body))
    user = call(zoom.url, "get_me", ACCESS)

    seen = only_request(zoom)
    assert seen.headers["authorization"] == f"Bearer {ACCESS}"
    assert seen.query == ""
    assert user == ZoomUser(id="KdYKjnimT4KPd8FFgQt9FQ", account_id="acc1",
                            email="jane@example.com", display_name="Jane D.", status="active",
                            first_name="Jane", last_name="Doe", type=2, raw=body)
    assert user.raw == body  # every field Zoom sent, unknown ones included


def test_get_me_display_name_falls_back_to_first_and_last(zoom: FakeZoom) -> None:
    zoom.on("GET", "/v2/users/me", Reply(json={"id": "u1", "first_name": "Ada",
                                               "last_name": "Lovelace", "type": "1"}))
    user = call(zoom.url, "get_me", ACCESS)
    assert user.display_name == "Ada Lovelace"
    assert user.type == 1
    assert user.email is None and user.account_id is None


def test_mint_obf_token(zoom: FakeZoom) -> None:
    zoom.on("GET", "/v2/users/me/token", Reply(json={"token": OBF}))
    token = call(zoom.url, "mint_token", ACCESS, token_type="onbehalf",
                 meeting_id="85746065432", ttl=300)

    seen = only_request(zoom)
    assert token == OBF
    assert seen.headers["authorization"] == f"Bearer {ACCESS}"
    assert seen.query_params == {"type": "onbehalf", "meeting_id": "85746065432", "ttl": "300"}
    assert_no_secrets(seen.query)


def test_mint_zak_token_without_meeting(zoom: FakeZoom) -> None:
    zoom.on("GET", "/v2/users/me/token", Reply(json={"token": OBF}))
    assert call(zoom.url, "mint_token", ACCESS, token_type="zak") == OBF
    assert only_request(zoom).query_params == {"type": "zak"}


@pytest.mark.parametrize("kwargs", [{"token_type": "jwt"},
                                    {"token_type": "zak", "ttl": 0}])
def test_mint_token_rejects_bad_arguments_without_calling_zoom(zoom: FakeZoom,
                                                               kwargs: dict) -> None:
    with pytest.raises(ValueError):
        call(zoom.url, "mint_token", ACCESS, **kwargs)
    assert zoom.requests == []


def test_base_urls_with_trailing_slash(zoom: FakeZoom) -> None:
    zoom.on("GET", "/v2/users/me", Reply(json={"id": "u1"}))

    async def go() -> ZoomUser:
        async with ZoomClient(oauth_url=zoom.url + "/", api_url=zoom.url + "/v2/") as client:
            return await client.get_me(ACCESS)

    assert asyncio.run(go()).id == "u1"
    assert only_request(zoom).path == "/v2/users/me"


def test_borrowed_http_session_is_not_closed(zoom: FakeZoom) -> None:
    zoom.on("GET", "/v2/users/me", Reply(json={"id": "u1"}))

    async def go() -> bool:
        connector = aiohttp.TCPConnector(ssl=TLS)
        async with aiohttp.ClientSession(connector=connector) as session:
            client = ZoomClient(oauth_url=zoom.url, api_url=zoom.url + "/v2", session=session)
            await client.get_me(ACCESS)
            await client.aclose()
            return session.closed

    assert asyncio.run(go()) is False


def test_no_secrets_in_logs(zoom: FakeZoom, caplog: pytest.LogCaptureFixture) -> None:
    zoom.on("POST", "/oauth/token", Reply(json=TOKEN_BODY))
    zoom.on("GET", "/v2/users/me/token", Reply(json={"token": OBF}))
    caplog.set_level(logging.DEBUG)
    call(zoom.url, "exchange_code", CREDS, code=CODE, redirect_uri=REDIRECT,
         code_verifier=VERIFIER)
    call(zoom.url, "mint_token", ACCESS, token_type="onbehalf", meeting_id="1")
    assert_no_secrets(caplog.text)


def test_reprs_redact_secrets() -> None:
    grant = TokenGrant(access_token=ACCESS, refresh_token=REFRESH, expires_in=60,
                       scopes=frozenset({"user:read:token"}))
    creds = AppCredentials(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    for text in (repr(grant), str(grant), repr(creds), str(creds), f"{grant} {creds}"):
        assert_no_secrets(text)
    assert CLIENT_ID in repr(creds)
    assert "user:read:token" in repr(grant)
    assert all(s not in repr(ZoomUser("u", None, None, None, None, None, None, None,
                                      raw={"x": s})) for s in SECRETS)


def test_expires_at() -> None:
    grant = TokenGrant(access_token=ACCESS, refresh_token=REFRESH, expires_in=3599)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert grant.expires_at(now) == now + timedelta(seconds=3599)
    assert grant.expires_at(1000.0) == 4599.0


def test_calls_go_through_the_environments_proxy_unless_no_proxy_names_the_host(
        zoom: FakeZoom, monkeypatch: pytest.MonkeyPatch) -> None:
    # zoom.invalid never resolves: an answer can only come through the proxy, which here is the
    # fake itself (a forward proxy gets the absolute URL, and the fake answers its path).
    zoom.on("GET", "/v2/users/me/token", Reply(json={"token": OBF}))
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", zoom.url)
    assert call("http://zoom.invalid", "mint_token", ACCESS, token_type="zak") == OBF
    assert only_request(zoom).headers["host"] == "zoom.invalid"

    monkeypatch.setenv("NO_PROXY", "zoom.invalid")
    with pytest.raises(ZoomUnavailable, match="could not connect to Zoom"):
        call("http://zoom.invalid", "mint_token", ACCESS, token_type="zak")
    assert len(zoom.requests) == 1, "NO_PROXY: straight to the host, not through the proxy"
