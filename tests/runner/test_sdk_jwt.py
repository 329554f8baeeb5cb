"""The Meeting SDK JWT: header, payload, signature, lifetime bounds."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from obfbroker.zoom.sdk_jwt import meeting_sdk_jwt
from obfbroker.zoomsim.sdkjwt import SdkJwtError, decode_and_verify

CLIENT_ID = "abcDEFghiJKLmnoPQRstu"
SECRET = "s3cr3t-client-secret-0123456789abcdef"
NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)


def _decode(segment: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def _parts(token: str) -> tuple[dict, dict, bytes, str]:
    head, body, signature = token.split(".")
    raw_signature = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    return _decode(head), _decode(body), raw_signature, f"{head}.{body}"


def test_header_payload_and_signature():
    token = meeting_sdk_jwt(CLIENT_ID, SECRET, "85746065432", now=NOW)
    header, payload, signature, signing_input = _parts(token)

    assert header == {"alg": "HS256", "typ": "JWT"}
    iat = int(NOW.timestamp()) - 30
    assert payload == {"appKey": CLIENT_ID, "sdkKey": CLIENT_ID, "mn": "85746065432", "role": 0,
                       "iat": iat, "exp": iat + 7200, "tokenExp": iat + 7200}
    expected = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(signature, expected)
    wrong = hmac.new(b"another secret", signing_input.encode(), hashlib.sha256).digest()
    assert signature != wrong
    assert "=" not in token  # base64url without padding


def test_lifetime_role_and_other_timezones():
    token = meeting_sdk_jwt(CLIENT_ID, SECRET, "123456789", now=NOW.astimezone(timezone(timedelta(hours=9))),
                            lifetime=timedelta(hours=48), role=1)
    _, payload, _, _ = _parts(token)
    assert payload["iat"] == int(NOW.timestamp()) - 30
    assert payload["exp"] - payload["iat"] == 48 * 3600 == payload["tokenExp"] - payload["iat"]
    assert payload["role"] == 1
    assert isinstance(payload["mn"], str)


@pytest.mark.parametrize("lifetime", [timedelta(minutes=30), timedelta(hours=2), timedelta(hours=48)])
def test_lifetime_bounds_accepted(lifetime):
    _, payload, _, _ = _parts(meeting_sdk_jwt(CLIENT_ID, SECRET, "123456789", now=NOW, lifetime=lifetime))
    assert payload["exp"] - payload["iat"] == int(lifetime.total_seconds())


@pytest.mark.parametrize("lifetime", [timedelta(0), timedelta(minutes=30) - timedelta(seconds=1),
                                      timedelta(hours=48, seconds=1), timedelta(days=30),
                                      timedelta(hours=-2)])
def test_lifetime_out_of_bounds_refused(lifetime):
    with pytest.raises(ValueError, match="30 minutes to 48 hours"):
        meeting_sdk_jwt(CLIENT_ID, SECRET, "123456789", now=NOW, lifetime=lifetime)


@pytest.mark.parametrize("kwargs", [
    {"now": datetime(2026, 3, 2, 12, 0, 0)},  # naive: whose local time?
    {"meeting_number": "12345678a"},
    {"meeting_number": ""},
    {"meeting_number": "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19"},  # full-width digits
    {"role": 2},
    {"role": True},
    {"client_secret": ""},
    {"client_id": ""},
])
def test_malformed_arguments_refused(kwargs):
    arguments = {"client_id": CLIENT_ID, "client_secret": SECRET, "meeting_number": "123456789", "now": NOW}
    arguments.update(kwargs)
    with pytest.raises(ValueError):
        meeting_sdk_jwt(arguments.pop("client_id"), arguments.pop("client_secret"),
                        arguments.pop("meeting_number"), **arguments)


def test_the_simulator_accepts_it_for_its_meeting_only():
    token = meeting_sdk_jwt(CLIENT_ID, SECRET, "85746065432", now=NOW)
    secrets = {CLIENT_ID: SECRET}
    claims = decode_and_verify(token, secrets.get, meeting_number="85746065432", now=NOW.timestamp())
    assert claims["appKey"] == CLIENT_ID
    with pytest.raises(SdkJwtError) as wrong_meeting:
        decode_and_verify(token, secrets.get, meeting_number="99999999999", now=NOW.timestamp())
    assert wrong_meeting.value.rule == "meeting_number"
    with pytest.raises(SdkJwtError) as wrong_secret:
        decode_and_verify(token, {CLIENT_ID: "other"}.get, meeting_number="85746065432", now=NOW.timestamp())
    assert wrong_secret.value.rule == "signature"
    expired_at = NOW + timedelta(hours=2)
    with pytest.raises(SdkJwtError) as expired:
        decode_and_verify(token, secrets.get, meeting_number="85746065432", now=expired_at.timestamp())
    assert expired.value.rule == "expired"
