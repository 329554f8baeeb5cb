"""Shared values and helpers for the Zoom client tests."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from obfbroker.zoom.client import AppCredentials, ZoomClient

CLIENT_ID = "appClientId123"
CLIENT_SECRET = "cs_SuperSecretValue_0123456789"
CODE = "authCODEsecret_abcdefghijkl12345"
VERIFIER = "pkceVerifierSecret_9876543210_zyxwvu"
ACCESS = "eyJACCESS.access_token_secret_1111"
REFRESH = "eyJREFRESH.refresh_token_secret_2222"
NEW_ACCESS = "eyJNEWACCESS.new_access_secret_3333"
NEW_REFRESH = "eyJNEWREFRESH.new_refresh_secret_4444"
OBF = "obfTokenSecretValue_5555555555"
SECRETS = (CLIENT_SECRET, CODE, VERIFIER, ACCESS, REFRESH, NEW_ACCESS, NEW_REFRESH, OBF)

CREDS = AppCredentials(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
REDIRECT = "https://broker.example/oauth/callback"


# Generous: a loaded CI machine must never turn a scripted answer into a timeout. Tests of the
# timeout itself pass a short one and script a reply that never comes in time.
DEFAULT_TIMEOUT = 30.0


def call(base_url: str, method: str, *args: Any, timeout: float = DEFAULT_TIMEOUT, **kwargs: Any) -> Any:
    """Run one ZoomClient call on a fresh event loop against ``base_url``."""

    async def go() -> Any:
        client = ZoomClient(oauth_url=base_url, api_url=base_url + "/v2", timeout=timeout)
        try:
            return await getattr(client, method)(*args, **kwargs)
        finally:
            await client.aclose()

    return asyncio.run(go())


def assert_no_secrets(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"secret leaked into {text!r}"


def assert_clean_error(err: BaseException) -> None:
    """The error's text holds no secret and it chains no httpx exception."""
    assert_no_secrets(str(err), repr(err), getattr(err, "reason", ""),
                      str(getattr(err, "zoom_code", "")), repr(err.args))
    for linked in (err.__cause__, err.__context__):
        assert not isinstance(linked, httpx.HTTPError)
    assert err.__cause__ is None
