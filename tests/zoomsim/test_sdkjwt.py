"""obfbroker.zoomsim.sdkjwt: the Meeting SDK JWT encoder and the checks meetings apply."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from obfbroker.zoomsim.sdkjwt import SdkJwtError, decode_and_verify, encode_sdk_jwt, sign_hs256

NOW = 1_800_000_000
SECRETS = {"app-1": "secret-1"}


def _unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def verify(token: str, meeting_number: str | int = "1234567890", now: float = NOW) -> dict:
    return decode_and_verify(token, SECRETS.get, meeting_number=meeting_number, now=now)


def test_encode_is_a_standard_hs256_jwt():
    token = encode_sdk_jwt("app-1", "secret-1", "1234567890", iat=NOW, exp=NOW + 7200)
    head, body, signature = token.split(".")
    assert "=" not in token
    assert json.loads(_unb64(head)) == {"alg": "HS256", "typ": "JWT"}
    assert json.loads(_unb64(body)) == {"appKey": "app-1", "sdkKey": "app-1", "mn": "1234567890",
                                        "role": 0, "iat": NOW, "exp": NOW + 7200,
                                        "tokenExp": NOW + 7200}
    expected = hmac.new(b"secret-1", f"{head}.{body}".encode(), hashlib.sha256).digest()
    assert _unb64(signature) == expected


def test_decode_and_verify_returns_the_payload():
    token = encode_sdk_jwt("app-1", "secret-1", 1234567890, iat=NOW, exp=NOW + 1800, role=1)
    claims = verify(token)
    assert (claims["appKey"], claims["mn"], claims["role"]) == ("app-1", 1234567890, 1)
    assert verify(token, meeting_number=1234567890) == claims
    # Lifetime bounds are inclusive; sdkKey may be left out.
    longest = {"appKey": "app-1", "mn": "1234567890", "role": 0, "iat": NOW,
               "exp": NOW + 48 * 3600, "tokenExp": NOW + 48 * 3600}
    assert verify(sign_hs256(longest, "secret-1"))["exp"] == NOW + 48 * 3600


@pytest.mark.parametrize(("token", "rule"), [
    (encode_sdk_jwt("app-1", "wrong", "1234567890", iat=NOW, exp=NOW + 3600), "signature"),
    (encode_sdk_jwt("app-2", "secret-1", "1234567890", iat=NOW, exp=NOW + 3600), "app_key"),
    (encode_sdk_jwt("app-1", "secret-1", "1234567891", iat=NOW, exp=NOW + 3600),
     "meeting_number"),
    (encode_sdk_jwt("app-1", "secret-1", "1234567890", iat=NOW, exp=NOW + 3600, role=2), "role"),
    (encode_sdk_jwt("app-1", "secret-1", "1234567890", iat=NOW - 3600, exp=NOW), "expired"),
    (encode_sdk_jwt("app-1", "secret-1", "1234567890", iat=NOW, exp=NOW + 1799), "lifetime"),
    (encode_sdk_jwt("app-1", "secret-1", "1234567890", iat=NOW, exp=NOW + 172801), "lifetime"),
    (sign_hs256({"appKey": "app-1", "mn": True, "role": 0}, "secret-1"), "meeting_number"),
    (sign_hs256({"appKey": "app-1", "mn": "1234567890", "role": 0, "iat": NOW, "exp": NOW + 3600,
                 "tokenExp": NOW + 60}, "secret-1"), "lifetime"),
    (sign_hs256({"appKey": "app-1", "mn": "1234567890", "role": 0, "iat": NOW,
                 "exp": NOW + 3600}, "secret-1"), "claims"),
    (sign_hs256({"appKey": "app-1"}, "secret-1", {"alg": "HS512"}), "algorithm"),
    ("a.b", "malformed"),
    ("a.b.c.d", "malformed"),
    (".e30.", "malformed"),
    ("e30.e30.!!", "malformed"),
    ("e30.bm90IGpzb24.", "malformed"),
])
def test_each_rule_fails_on_its_own(token, rule):
    with pytest.raises(SdkJwtError) as caught:
        verify(token)
    assert caught.value.rule == rule
    assert str(caught.value) == caught.value.message
