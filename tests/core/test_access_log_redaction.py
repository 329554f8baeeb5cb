"""`obfbroker serve`'s access log (uvicorn's, through our JSON logs) shows no secret sent in a
query string, whatever the parameter's exact name."""

from __future__ import annotations

import json
import secrets
from urllib.parse import urlencode

import pytest

from obfbroker.logs import redact, redact_query_values
from tests.support.databases import TEST_KEY
from tests.support.http import http_get
from tests.support.processes import free_port, running

SECRET_NAMES = ("bot_secret", "api_key", "access_token", "code", "X-Webhook-Secret", "refreshToken",
                "passcode", "key")


def test_serve_logs_requests_with_secret_query_values_redacted(tmp_path):
    port = free_port()
    database = tmp_path / "serve.db"  # named and absent: serve creates it (its folder exists)
    env = {"OBFBROKER_DATABASE_URL": f"sqlite:///{database}", "OBFBROKER_ENCRYPTION_KEYS": TEST_KEY}
    values = {name: f"leak-{secrets.token_urlsafe(12)}" for name in SECRET_NAMES}
    query = urlencode({**values, "meeting_number": "81234567890", "state": "visible"})
    base = f"http://127.0.0.1:{port}"
    with running("serve", "--port", str(port), env=env, ready_url=f"{base}/healthz") as process:
        assert http_get(f"{base}/token-server/zoom/obf?{query}").status_code == 401
    log = process.stderr.read().decode()
    for value in values.values():
        assert value not in log
    access = [json.loads(line) for line in log.splitlines()
              if line.startswith("{") and "/token-server/zoom/obf" in line]
    assert len(access) == 1 and access[0]["logger"] == "uvicorn.access", log[-2000:]
    line = access[0]["msg"]
    for name in SECRET_NAMES:
        assert f"{name}=[redacted]" in line, line
    assert "meeting_number=81234567890" in line and "state=visible" in line
    assert database.exists()


def test_query_redaction_matches_names_by_their_parts():
    text = 'GET /x?my_api_key=a&Bot-Secret=b&authToken=c&zip=1&sig=&q=code HTTP/1.1'
    assert redact_query_values(text) == (
        "GET /x?my_api_key=[redacted]&Bot-Secret=[redacted]&authToken=[redacted]&zip=1&sig=&q=code HTTP/1.1")


@pytest.mark.parametrize(("text", "kept"), [
    ('{"bot_secret": "s3cr3t"}', '{"bot_secret": "[redacted]"}'),
    ("webhook_secret: s3cr3t", "webhook_secret: [redacted]"),
    ("obf_token=s3cr3t", "obf_token=[redacted]"),
    ('{"zak": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig"}', '{"zak": "[redacted]"}'),
    ("minted eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig", "minted [redacted]"),
    ("postgresql://bob:hunter2@db.internal/x", "postgresql://bob:[redacted]@db.internal/x"),
    ("meeting_number=81234567890", "meeting_number=81234567890"),
])
def test_compound_names_url_passwords_and_jwts_are_scrubbed_anywhere(text: str, kept: str):
    assert redact(text) == kept
