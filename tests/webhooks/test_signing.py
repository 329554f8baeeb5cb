"""Standard Webhooks signing: the published test vector, verify's checks, secret format."""

from __future__ import annotations

import base64

from obfbroker.webhooks.signing import generate_secret, secret_key, sign, verify

# The test vector published with the Standard Webhooks reference libraries.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def headers(signature: str = VECTOR_SIGNATURE, timestamp: int = VECTOR_TIMESTAMP) -> dict[str, str]:
    return {"Webhook-Id": VECTOR_ID, "Webhook-Timestamp": str(timestamp), "Webhook-Signature": signature}


def test_signature_matches_the_published_vector():
    assert sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE
    assert sign(VECTOR_SECRET.removeprefix("whsec_"), VECTOR_ID, VECTOR_TIMESTAMP,
                VECTOR_BODY.decode()) == VECTOR_SIGNATURE


def test_verify_accepts_the_vector_and_rejects_any_change():
    now = VECTOR_TIMESTAMP + 10
    assert verify(VECTOR_SECRET, headers(), VECTOR_BODY, now=now)
    assert verify(VECTOR_SECRET, headers(f"v1,bm9wZQ== {VECTOR_SIGNATURE}"), VECTOR_BODY, now=now)
    assert not verify(generate_secret(), headers(), VECTOR_BODY, now=now)
    assert not verify(VECTOR_SECRET, headers(), VECTOR_BODY + b" ", now=now)
    assert not verify(VECTOR_SECRET, headers(timestamp=VECTOR_TIMESTAMP + 1), VECTOR_BODY, now=now)
    assert not verify(VECTOR_SECRET, headers("v2," + VECTOR_SIGNATURE[3:]), VECTOR_BODY, now=now)
    assert not verify(VECTOR_SECRET, headers(""), VECTOR_BODY, now=now)
    assert not verify(VECTOR_SECRET, {"webhook-id": VECTOR_ID}, VECTOR_BODY, now=now)
    assert not verify(VECTOR_SECRET, headers(timestamp="soon"), VECTOR_BODY, now=now)  # type: ignore[arg-type]


def test_verify_rejects_timestamps_outside_the_tolerance():
    assert verify(VECTOR_SECRET, headers(), VECTOR_BODY, now=VECTOR_TIMESTAMP + 300)
    assert verify(VECTOR_SECRET, headers(), VECTOR_BODY, now=VECTOR_TIMESTAMP - 300)
    assert not verify(VECTOR_SECRET, headers(), VECTOR_BODY, now=VECTOR_TIMESTAMP + 301)
    assert not verify(VECTOR_SECRET, headers(), VECTOR_BODY, now=VECTOR_TIMESTAMP - 301)
    assert verify(VECTOR_SECRET, headers(), VECTOR_BODY, now=VECTOR_TIMESTAMP + 3600, tolerance=3600)


def test_generated_secrets_are_whsec_base64_of_24_random_bytes():
    first, second = generate_secret(), generate_secret()
    assert first != second
    assert first.startswith("whsec_")
    assert len(secret_key(first)) == 24
    assert base64.b64encode(secret_key(first)).decode() == first.removeprefix("whsec_")
