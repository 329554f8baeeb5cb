"""Webhooks from the simulated Zoom to an app's event endpoint (zoom-platform.md section 5).

The simulator sends two events, each signed like Zoom signs them:
- `app_deauthorized`, after `POST /_sim/users/{id}/deauthorize`;
- `endpoint.url_validation`, on `POST /_sim/apps/{client_id}/validate-webhook`.

`sign_zoom_webhook` is public so other code and tests can sign (or check) bodies the same way.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import secrets
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

DEAUTHORIZATION_TIMEOUT = 10.0  # seconds the deauthorize control call waits for the receiver
URL_VALIDATION_TIMEOUT = 3.0  # Zoom wants the validation answer within 3 s
USER_AGENT = "Zoom Marketplace/1.0a"


def sign_zoom_webhook(secret: str, timestamp: int, body: bytes) -> str:
    """The `x-zm-signature` value: `v0=<hex HMAC-SHA256(secret, "v0:{timestamp}:{body}")>`."""
    message = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def encrypt_plain_token(secret: str, plain_token: str) -> str:
    """The `encryptedToken` an endpoint must answer a URL validation with."""
    return hmac.new(secret.encode(), plain_token.encode(), hashlib.sha256).hexdigest()


def iso_ms(epoch_seconds: float) -> str:
    """Zoom's timestamp format, e.g. `2019-06-17T13:52:28.632Z`."""
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def deauthorization_event(
    *, now: float, account_id: str, user_id: str, client_id: str, user_data_retention: str
) -> dict[str, Any]:
    """Zoom's `app_deauthorized` event body, keys in Zoom's order."""
    return {
        "event": "app_deauthorized",
        "event_ts": int(now * 1000),
        "payload": {
            "account_id": account_id,
            "user_id": user_id,
            "signature": secrets.token_hex(32),
            "deauthorization_time": iso_ms(now),
            "client_id": client_id,
            "user_data_retention": user_data_retention,
        },
    }


def url_validation_event(*, now: float, plain_token: str) -> dict[str, Any]:
    """Zoom's `endpoint.url_validation` event body."""
    return {
        "event": "endpoint.url_validation",
        "payload": {"plainToken": plain_token},
        "event_ts": int(now * 1000),
    }


def new_plain_token() -> str:
    """A random plainToken shaped like Zoom's (22 URL-safe characters)."""
    return secrets.token_urlsafe(16)


@dataclass
class Delivery:
    """The outcome of one webhook POST: an HTTP answer, or `error` when there was none."""

    url: str
    status_code: int | None
    error: str | None = None
    response: httpx.Response | None = None

    def summary(self) -> dict[str, Any]:
        """What the control API reports about the delivery."""
        result: dict[str, Any] = {"url": self.url, "status_code": self.status_code}
        if self.error is not None:
            result["error"] = self.error
        return result


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Built once: httpx would read the CA bundle again for every client (the simulator imports
    nothing of obfbroker, so it keeps its own copy of this rather than obfbroker.tls)."""
    return httpx.create_ssl_context(trust_env=False)


class WebhookSender:
    """Signs and POSTs webhook events with an `httpx.AsyncClient`; never blocks the event loop.

    One client per delivery, so the sender works whichever event loop serves the simulator.
    `on_delivery` is called after every POST attempt (the simulator counts them in its stats);
    `transport` lets tests plug in an `httpx.MockTransport`; the timeouts may be changed.
    """

    def __init__(
        self,
        *,
        deauthorization_timeout: float = DEAUTHORIZATION_TIMEOUT,
        url_validation_timeout: float = URL_VALIDATION_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        on_delivery: Callable[[Delivery], None] | None = None,
    ) -> None:
        self.deauthorization_timeout = deauthorization_timeout
        self.on_delivery = on_delivery
        self.url_validation_timeout = url_validation_timeout
        self.transport = transport

    async def send(
        self, url: str, secret: str, event: dict[str, Any], *, now: float, timeout: float
    ) -> Delivery:
        """POST `event` to `url`, signed with `secret` at simulated time `now` (epoch seconds)."""
        body = json.dumps(event, separators=(",", ":")).encode()
        timestamp = int(now)
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "x-zm-request-timestamp": str(timestamp),
            "x-zm-signature": sign_zoom_webhook(secret, timestamp, body),
        }
        delivery = await self._post(url, body, headers, timeout)
        if self.on_delivery is not None:
            self.on_delivery(delivery)
        return delivery

    async def _post(self, url: str, body: bytes, headers: dict[str, str],
                    timeout: float) -> Delivery:
        try:
            async with httpx.AsyncClient(
                timeout=timeout, follow_redirects=False, trust_env=False, transport=self.transport,
                verify=_tls_context(),
            ) as client:
                response = await client.post(url, content=body, headers=headers)
        except httpx.TimeoutException:
            return Delivery(url, None, f"timed out after {timeout:g} s")
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return Delivery(url, None, f"{type(exc).__name__}: {exc}".rstrip(": "))
        return Delivery(url, response.status_code, response=response)

    async def send_deauthorization(self, url: str, secret: str, event: dict[str, Any], *,
                                   now: float) -> Delivery:
        """Deliver an `app_deauthorized` event."""
        return await self.send(url, secret, event, now=now, timeout=self.deauthorization_timeout)

    async def validate_endpoint(self, url: str, secret: str, *, now: float) -> dict[str, Any]:
        """Send `endpoint.url_validation` and judge the answer as Zoom does.

        Returns `{"valid", "status_code"}` plus `"reason"` when the endpoint failed.
        """
        plain_token = new_plain_token()
        event = url_validation_event(now=now, plain_token=plain_token)
        delivery = await self.send(url, secret, event, now=now, timeout=self.url_validation_timeout)
        reason = delivery.error or _validation_problem(delivery.response, secret, plain_token)
        result: dict[str, Any] = {"valid": reason is None, "status_code": delivery.status_code}
        if reason is not None:
            result["reason"] = reason
        return result


def _validation_problem(response: httpx.Response | None, secret: str, plain_token: str) -> str | None:
    """Why an answer to `endpoint.url_validation` is wrong, or None when it is right."""
    if response is None:
        return "no response"
    if response.status_code != 200:
        return f"expected status 200, got {response.status_code}"
    try:
        answer = response.json()
    except ValueError:
        return "response body is not JSON"
    if not isinstance(answer, dict):
        return "response body is not a JSON object"
    got_plain, got_encrypted = answer.get("plainToken"), answer.get("encryptedToken")
    if not isinstance(got_plain, str) or not hmac.compare_digest(got_plain.encode(),
                                                                 plain_token.encode()):
        return "plainToken does not match the one sent"
    expected = encrypt_plain_token(secret, plain_token)
    if not isinstance(got_encrypted, str) or not hmac.compare_digest(got_encrypted.encode(),
                                                                     expected.encode()):
        return "encryptedToken is not hex HMAC-SHA256(webhook_secret_token, plainToken)"
    return None
