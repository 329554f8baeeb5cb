"""Every failure shape Zoom produces maps to one typed error that leaks nothing."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from obfbroker.zoom.errors import (
    ZoomApiError,
    ZoomError,
    ZoomInvalidAccessToken,
    ZoomInvalidClient,
    ZoomInvalidGrant,
    ZoomInvalidRequest,
    ZoomMissingScopes,
    ZoomRateLimited,
    ZoomUnavailable,
    ZoomUnsupportedGrant,
    ZoomUserNotFound,
)
from tests.support.servers import free_port
from tests.zoom.fake_zoom import FakeZoom, Reply
from tests.zoom.helpers import (
    ACCESS,
    CODE,
    CREDS,
    DEFAULT_TIMEOUT,
    REDIRECT,
    REFRESH,
    VERIFIER,
    assert_clean_error,
    call,
)

TOKEN_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("exchange_code", {"code": CODE, "redirect_uri": REDIRECT, "code_verifier": VERIFIER}),
    ("refresh", {"refresh_token": REFRESH}),
]


def token_failure(zoom: FakeZoom, reply: Reply, method: str = "exchange_code") -> ZoomError:
    zoom.on("POST", "/oauth/token", reply)
    kwargs = dict(TOKEN_CALLS)[method]
    with pytest.raises(ZoomError) as info:
        call(zoom.url, method, CREDS, **kwargs)
    assert len(zoom.seen("/oauth/token")) == 1, "the client must never retry by itself"
    assert_clean_error(info.value)
    return info.value


def api_failure(zoom: FakeZoom, reply: Reply, *, timeout: float = DEFAULT_TIMEOUT) -> ZoomError:
    zoom.on("GET", "/v2/users/me", reply)
    with pytest.raises(ZoomError) as info:
        call(zoom.url, "get_me", ACCESS, timeout=timeout)
    assert len(zoom.seen("/v2/users/me")) == 1, "the client must never retry by itself"
    assert_clean_error(info.value)
    return info.value


# -- token endpoint --------------------------------------------------------------------------

@pytest.mark.parametrize("status", [400, 401])
@pytest.mark.parametrize("body", [{"reason": "Invalid Token!", "error": "invalid_grant"},
                                  {"error": "invalid_grant"}])
def test_invalid_grant(zoom: FakeZoom, status: int, body: dict) -> None:
    err = token_failure(zoom, Reply(status=status, json=body), "refresh")
    assert type(err) is ZoomInvalidGrant
    assert (err.status_code, err.zoom_code) == (status, "invalid_grant")


@pytest.mark.parametrize("status", [400, 401])
def test_reused_code_never_echoes_the_code(zoom: FakeZoom, status: int) -> None:
    body = {"reason": f"Invalid authorization code {CODE}", "error": "invalid_request"}
    err = token_failure(zoom, Reply(status=status, json=body))
    assert type(err) is ZoomInvalidRequest
    assert err.redirect_mismatch is False
    assert (err.status_code, err.zoom_code) == (status, "invalid_request")


@pytest.mark.parametrize("status", [400, 401])
@pytest.mark.parametrize("body", [
    {"reason": "Invalid client_id or client_secret", "error": "invalid_client"},
    {"error": "invalid_client"}])
def test_invalid_client(zoom: FakeZoom, status: int, body: dict) -> None:
    err = token_failure(zoom, Reply(status=status, json=body), "refresh")
    assert type(err) is ZoomInvalidClient
    assert not isinstance(err, ZoomInvalidGrant)  # never a reason to disconnect users


def test_unsupported_grant(zoom: FakeZoom) -> None:
    body = {"reason": "unsupported grant type", "error": "unsupported_grant_type"}
    err = token_failure(zoom, Reply(status=400, json=body))
    assert isinstance(err, ZoomUnsupportedGrant) and isinstance(err, ZoomInvalidRequest)


@pytest.mark.parametrize("body", [
    {"code": 4709, "message": "Redirect URI mismatch."},
    {"reason": "Redirect URI mismatch.", "error": "invalid_request"},
    {"reason": "Redirect URI mismatch.", "error": "invalid_request", "code": "4709"},
    {"error": "redirect_uri_mismatch"}])
def test_redirect_mismatch(zoom: FakeZoom, body: dict) -> None:
    err = token_failure(zoom, Reply(status=400, json=body))
    assert type(err) is ZoomInvalidRequest
    assert err.redirect_mismatch is True


def test_unknown_token_error_is_an_api_error(zoom: FakeZoom) -> None:
    err = token_failure(zoom, Reply(status=400, json={"error": "access_denied",
                                                       "reason": f"nope {CODE}"}))
    assert type(err) is ZoomApiError
    assert err.zoom_code == "access_denied"


def test_error_value_holding_a_secret_is_dropped(zoom: FakeZoom) -> None:
    err = token_failure(zoom, Reply(status=400, json={"error": CODE}))
    assert type(err) is ZoomApiError
    assert err.zoom_code is None


@pytest.mark.parametrize("method", ["exchange_code", "refresh"])
@pytest.mark.parametrize(("reply", "status"), [
    (Reply(status=502, body="<html><body>Bad Gateway</body></html>",
           content_type="text/html"), 502),
    (Reply(status=500), 500),
    (Reply(status=503, body="Service Unavailable", content_type="text/plain"), 503),
    (Reply(status=500, json={"error": "invalid_grant"}), 500),  # a 5xx never means invalid
    (Reply(status=400, body="<html>oops</html>", content_type="text/html"), 400),
    (Reply(status=401), 401),
    (Reply(status=302, headers={"location": "https://zoom.us/signin"}), 302),
])
def test_unusable_answers_are_unavailable(zoom: FakeZoom, method: str, reply: Reply,
                                          status: int) -> None:
    err = token_failure(zoom, reply, method)
    assert type(err) is ZoomUnavailable
    assert err.status_code == status
    assert err.retryable


@pytest.mark.parametrize("reply", [
    Reply(json={"token_type": "bearer"}),
    Reply(json=["not", "an", "object"]),
    Reply(body="<html>ok</html>", content_type="text/html"),
    Reply(body=b""),
    Reply(json={"access_token": "", "refresh_token": ""}),
])
def test_malformed_success_is_unavailable(zoom: FakeZoom, reply: Reply) -> None:
    err = token_failure(zoom, reply)
    assert type(err) is ZoomUnavailable
    assert err.status_code == 200


def test_revoke_errors_are_typed(zoom: FakeZoom) -> None:
    zoom.on("POST", "/oauth/revoke", Reply(status=400, json={"reason": "Invalid Token!",
                                                              "error": "invalid_grant"}))
    with pytest.raises(ZoomInvalidGrant) as info:
        call(zoom.url, "revoke", CREDS, token=REFRESH)
    assert_clean_error(info.value)


def test_token_endpoint_rate_limit(zoom: FakeZoom) -> None:
    err = token_failure(zoom, Reply(status=429, json={"code": 429, "message": "slow down"},
                                    headers={"Retry-After": "2"}), "refresh")
    assert type(err) is ZoomRateLimited
    assert err.retry_after == 2.0


# -- REST API --------------------------------------------------------------------------------

@pytest.mark.parametrize(("message", "expired"), [("Invalid access token.", False),
                                                  ("Access token is expired.", True)])
def test_invalid_or_expired_access_token(zoom: FakeZoom, message: str, expired: bool) -> None:
    err = api_failure(zoom, Reply(status=401, json={"code": 124, "message": message}))
    assert type(err) is ZoomInvalidAccessToken
    assert err.expired is expired
    assert (err.status_code, err.zoom_code) == (401, 124)


@pytest.mark.parametrize(("message", "scopes"), [
    ("Invalid access token, does not contain scopes:[user:read:user].", ["user:read:user"]),
    ("Invalid access token, does not contain scopes:[user:read:token, user:read:zak].",
     ["user:read:token", "user:read:zak"]),
    ("Invalid access token, does not contain scopes:[a:b,c:d:admin]", ["a:b", "c:d:admin"]),
    ("Invalid access token, does not contain required scopes.", []),
])
def test_missing_scopes(zoom: FakeZoom, message: str, scopes: list[str]) -> None:
    err = api_failure(zoom, Reply(status=400, json={"code": 4711, "message": message}))
    assert type(err) is ZoomMissingScopes
    assert err.scopes == scopes
    assert (err.status_code, err.zoom_code) == (400, 4711)


def test_other_rest_error_keeps_a_sanitized_message(zoom: FakeZoom) -> None:
    err = api_failure(zoom, Reply(status=400, json={"code": 300,
                                                    "message": "Invalid meeting number."}))
    assert type(err) is ZoomApiError
    assert (err.status_code, err.zoom_code) == (400, 300)
    assert "Invalid meeting number" in err.reason


def test_a_deleted_user_is_typed_with_our_own_words(zoom: FakeZoom) -> None:
    err = api_failure(zoom, Reply(status=404, json={"code": 1001,
                                                    "message": "User does not exist: me."}))
    assert type(err) is ZoomUserNotFound and isinstance(err, ZoomApiError)
    assert (err.status_code, err.zoom_code) == (404, 1001)
    assert err.reason == "the Zoom user no longer exists"


def test_rest_message_echoing_the_token_is_dropped(zoom: FakeZoom) -> None:
    err = api_failure(zoom, Reply(status=400, json={"code": 300,
                                                    "message": f"bad token {ACCESS[:20]}"}))
    assert type(err) is ZoomApiError
    assert "bad token" not in err.reason


def test_rest_429_with_rate_limit_headers(zoom: FakeZoom) -> None:
    body = {"code": 429, "message": "You have reached the maximum per-second rate limit "
                                    "for this API. Try again later."}
    headers = {"Retry-After": "5", "X-RateLimit-Category": "Light",
               "X-RateLimit-Type": "QPS", "X-RateLimit-Limit": "30",
               "X-RateLimit-Remaining": "0"}
    err = api_failure(zoom, Reply(status=429, json=body, headers=headers))
    assert type(err) is ZoomRateLimited
    assert (err.retry_after, err.category, err.limit_type, err.limit, err.remaining) == (
        5.0, "Light", "QPS", 30, 0)
    assert (err.status_code, err.zoom_code) == (429, 429)


def test_rest_429_without_headers_or_body(zoom: FakeZoom) -> None:
    err = api_failure(zoom, Reply(status=429))
    assert type(err) is ZoomRateLimited
    assert (err.retry_after, err.category, err.limit_type) == (None, None, None)


def _in(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


# Headers are built when the test runs, not at collection: dates are relative to "now".
@pytest.mark.parametrize(("make_header", "expected"), [
    (lambda: "120", 120.0),
    (lambda: "0", 0.0),
    (lambda: "-5", 0.0),
    (lambda: format_datetime(_in(90), usegmt=True), 90.0),
    (lambda: _in(600).strftime("%Y-%m-%dT%H:%M:%SZ"), 600.0),
    (lambda: _in(600).isoformat(), 600.0),
    (lambda: "2001-01-01T00:00:00Z", 0.0),
    (lambda: "Mon, 01 Jan 2001 00:00:00 GMT", 0.0),
    (lambda: "soon", None),
    (lambda: "", None),
], ids=["seconds", "zero", "negative", "http-date", "iso-z", "iso-offset", "iso-past",
        "http-date-past", "garbage", "empty"])
def test_retry_after_forms(zoom: FakeZoom, make_header, expected: float | None) -> None:
    err = api_failure(zoom, Reply(status=429, json={"code": 429, "message": "limit"},
                                  headers={"Retry-After": make_header()}))
    assert isinstance(err, ZoomRateLimited)
    if expected is None:
        assert err.retry_after is None
    else:
        assert err.retry_after == pytest.approx(expected, abs=5)


def test_503_carries_retry_after(zoom: FakeZoom) -> None:
    err = api_failure(zoom, Reply(status=503, body="down", headers={"Retry-After": "30"}))
    assert type(err) is ZoomUnavailable
    assert (err.status_code, err.retry_after) == (503, 30.0)


@pytest.mark.parametrize("reply", [
    Reply(status=502, body="<html><h1>502 Bad Gateway</h1></html>", content_type="text/html"),
    Reply(status=500),
    Reply(status=200, body="not json", content_type="text/plain"),
    Reply(status=200, json={"email": "no-id@example.com"}),
])
def test_rest_unusable_answers_are_unavailable(zoom: FakeZoom, reply: Reply) -> None:
    err = api_failure(zoom, reply)
    assert type(err) is ZoomUnavailable
    assert err.status_code == reply.status


def test_mint_without_token_is_unavailable(zoom: FakeZoom) -> None:
    zoom.on("GET", "/v2/users/me/token", Reply(json={}))
    with pytest.raises(ZoomUnavailable):
        call(zoom.url, "mint_token", ACCESS, token_type="onbehalf", meeting_id="1")


def test_mint_401_is_invalid_access_token(zoom: FakeZoom) -> None:
    zoom.on("GET", "/v2/users/me/token",
            Reply(status=401, json={"code": 124, "message": "Invalid access token."}))
    with pytest.raises(ZoomInvalidAccessToken) as info:
        call(zoom.url, "mint_token", ACCESS, token_type="onbehalf", meeting_id="1")
    assert_clean_error(info.value)


# -- transport failures ----------------------------------------------------------------------

def test_timeout_is_unavailable(zoom: FakeZoom) -> None:
    err = api_failure(zoom, Reply(json={"id": "late"}, delay=1.5), timeout=0.3)
    assert type(err) is ZoomUnavailable
    assert err.status_code is None
    assert err.__context__ is None


def test_token_timeout_is_unavailable(zoom: FakeZoom) -> None:
    zoom.on("POST", "/oauth/token", Reply(json={}, delay=1.5))
    with pytest.raises(ZoomUnavailable) as info:
        call(zoom.url, "refresh", CREDS, refresh_token=REFRESH, timeout=0.3)
    assert_clean_error(info.value)
    assert info.value.__context__ is None


def test_connection_refused_is_unavailable() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    for method, kwargs in TOKEN_CALLS:
        with pytest.raises(ZoomUnavailable) as info:
            call(url, method, CREDS, **kwargs)
        assert_clean_error(info.value)
        assert info.value.__context__ is None
    with pytest.raises(ZoomUnavailable) as info:
        call(url, "mint_token", ACCESS, token_type="onbehalf", meeting_id="1")
    assert_clean_error(info.value)


@contextmanager
def garbage_server() -> Iterator[str]:
    """A TCP server that answers every connection with bytes that are not HTTP."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                conn.recv(65536)
                conn.sendall(b"THIS IS NOT HTTP\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_protocol_error_is_unavailable() -> None:
    with garbage_server() as url:
        for method, kwargs in TOKEN_CALLS:
            with pytest.raises(ZoomUnavailable) as info:
                call(url, method, CREDS, **kwargs)
            assert_clean_error(info.value)
            assert info.value.__context__ is None
