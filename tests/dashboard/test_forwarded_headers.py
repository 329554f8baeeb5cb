"""X-Forwarded-For is believed only from the proxies OBFBROKER_TRUSTED_PROXIES names, checked on
real ``obfbroker serve`` processes (uvicorn alone would believe any loopback peer): from anyone
else it changes nothing, so the sign-in limit keys on the real peer."""

from __future__ import annotations

import httpx
import pytest

from tests.support.dashboard import csrf_of
from tests.support.processes import free_port, running
from tests.support.stack import Stack

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
FAILURES_ALLOWED = 10  # dashboard/security.py LoginLimiter: per client address, per 5 minutes


def serve(stack: Stack, **env: str):
    port = free_port()
    settings = stack.settings
    base = {"OBFBROKER_DATABASE_URL": settings.database_url,
            "OBFBROKER_ENCRYPTION_KEYS": settings.encryption_keys,
            "OBFBROKER_PUBLIC_URL": f"http://127.0.0.1:{port}", "OBFBROKER_LOG_LEVEL": "WARNING",
            "OBFBROKER_SERVE_WORKERS": "1"}
    url = f"http://127.0.0.1:{port}"
    return url, running("serve", "--no-migrate", "--port", str(port), env={**base, **env},
                        ready_url=f"{url}/readyz")


def sign_in(client: httpx.Client, api_key: str, forwarded_for: str) -> int:
    page = client.get("/dashboard/signin")
    response = client.post("/dashboard/signin", data={"api_key": api_key, "csrf_token": csrf_of(page.text)},
                           headers={"X-Forwarded-For": forwarded_for, "X-Real-IP": forwarded_for,
                                    "Forwarded": f"for={forwarded_for}"})
    return response.status_code


def test_forwarded_headers_from_an_untrusted_peer_change_nothing(stack: Stack):
    _, api_key = stack.create_account("acme")
    url, server = serve(stack)
    with server, httpx.Client(base_url=url, timeout=30) as client:
        wrong = [sign_in(client, "obf_live_wrong", f"203.0.113.{n}") for n in range(FAILURES_ALLOWED + 2)]
        assert wrong == [403] * FAILURES_ALLOWED + [429, 429], "every attempt counted against the real peer"
        assert sign_in(client, api_key, "203.0.113.200") == 429, "the right key waits like everyone here"


def test_forwarded_for_from_a_configured_proxy_names_the_client(stack: Stack):
    _, api_key = stack.create_account("acme")
    url, server = serve(stack, OBFBROKER_TRUSTED_PROXIES="10.9.9.9, 127.0.0.0/8")
    with server, httpx.Client(base_url=url, timeout=30) as client:
        spread = [sign_in(client, "obf_live_wrong", f"203.0.113.{n}") for n in range(FAILURES_ALLOWED + 2)]
        assert spread == [403] * (FAILURES_ALLOWED + 2), "each forwarded client has a budget of its own"
        one = [sign_in(client, "obf_live_wrong", "198.51.100.7") for _ in range(FAILURES_ALLOWED + 1)]
        assert one == [403] * FAILURES_ALLOWED + [429]
        assert sign_in(client, api_key, "198.51.100.7") == 429
        # The client the proxy saw is the address nearest the proxy that it does not trust.
        assert sign_in(client, api_key, "192.0.2.1, 198.51.100.7") == 429
        assert sign_in(client, api_key, "198.51.100.8") == 303
