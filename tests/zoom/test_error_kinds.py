"""One classification of Zoom's failures (``zoom.errors.classify``): each failure type has one
kind, transient exactly when the call may succeed later, and each kind says what it means."""

from __future__ import annotations

import pytest

from obfbroker.connections.errors import ZoomCall, ZoomDown, customer_error
from obfbroker.zoom.errors import (
    ZoomApiError,
    ZoomError,
    ZoomErrorKind,
    ZoomInvalidAccessToken,
    ZoomInvalidClient,
    ZoomInvalidGrant,
    ZoomInvalidRequest,
    ZoomMissingScopes,
    ZoomNotMeetingHost,
    ZoomRateLimited,
    ZoomUnavailable,
    ZoomUnsupportedGrant,
    ZoomUserNotFound,
    classify,
)

CASES = [
    (ZoomUnavailable("timed out"), ZoomErrorKind.NETWORK),
    (ZoomUnavailable("bad gateway", status_code=502), ZoomErrorKind.SERVER_ERROR),
    (ZoomUnavailable("not JSON", status_code=200), ZoomErrorKind.BAD_RESPONSE),
    (ZoomRateLimited("slow down", retry_after=2), ZoomErrorKind.RATE_LIMITED),
    (ZoomInvalidGrant("stale", status_code=400), ZoomErrorKind.INVALID_GRANT),
    (ZoomInvalidClient("bad secret", status_code=401), ZoomErrorKind.INVALID_CLIENT),
    (ZoomInvalidAccessToken("expired", expired=True), ZoomErrorKind.INVALID_ACCESS_TOKEN),
    (ZoomMissingScopes("scope", scopes=["user:read:token"]), ZoomErrorKind.MISSING_SCOPES),
    (ZoomUserNotFound("gone", status_code=404, zoom_code=1001), ZoomErrorKind.USER_NOT_FOUND),
    (ZoomNotMeetingHost("not host", status_code=400, zoom_code=3003), ZoomErrorKind.NOT_MEETING_HOST),
    (ZoomInvalidRequest("code used", status_code=400), ZoomErrorKind.INVALID_REQUEST),
    (ZoomUnsupportedGrant("grant type", status_code=400), ZoomErrorKind.INVALID_REQUEST),
    (ZoomApiError("meeting gone", status_code=404, zoom_code=3001), ZoomErrorKind.REJECTED),
    (ZoomError("odd"), ZoomErrorKind.REJECTED),
]


@pytest.mark.parametrize(("err", "kind"), CASES, ids=[type(err).__name__ + str(err.status_code)
                                                      for err, _ in CASES])
def test_each_failure_has_one_kind_transient_exactly_when_retryable(err, kind):
    assert classify(err) is kind
    assert kind.transient is err.retryable


def test_every_kind_is_reachable_and_described():
    assert {kind for _, kind in CASES} == set(ZoomErrorKind)
    assert all(kind.description and kind.description[0].isupper() for kind in ZoomErrorKind)


def test_the_customer_answer_follows_the_kind_and_the_call():
    down = customer_error(ZoomRateLimited("slow down", retry_after=7), during=ZoomCall.EXCHANGE)
    assert isinstance(down, ZoomDown) and down.rate_limited and down.headers["Retry-After"] == "7"
    credentials = customer_error(ZoomInvalidClient("x"), during=ZoomCall.EXCHANGE)
    assert (credentials.status_code, credentials.code) == (400, "zoom_app_credentials_invalid")
    assert customer_error(ZoomInvalidRequest("x", redirect_mismatch=True),
                          during=ZoomCall.EXCHANGE).code == "redirect_uri_mismatch"
    assert customer_error(ZoomInvalidGrant("x"), during=ZoomCall.EXCHANGE).code == "zoom_code_rejected"
    assert customer_error(ZoomInvalidGrant("x"), during=ZoomCall.IDENTIFY).code == "zoom_error"
    scopes = customer_error(ZoomMissingScopes("x", scopes=["user:read:token"]), during=ZoomCall.MINT)
    assert (scopes.status_code, scopes.code) == (409, "missing_scopes")
    assert customer_error(ZoomMissingScopes("x"), during=ZoomCall.IDENTIFY).status_code == 400
    host = customer_error(ZoomNotMeetingHost("x", zoom_code=3003), during=ZoomCall.MINT)
    assert (host.code, host.extra) == ("not_meeting_host", {"zoom_code": 3003})
    other = customer_error(ZoomApiError("no such meeting", status_code=404, zoom_code=3001),
                           during=ZoomCall.MINT)
    assert (other.status_code, other.code, other.extra) == (502, "zoom_error", {"zoom_code": 3001})
