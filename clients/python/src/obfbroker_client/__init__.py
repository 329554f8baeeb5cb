"""A Python client for the obfbroker HTTP API.

>>> from obfbroker_client import ObfBrokerClient
>>> with ObfBrokerClient("http://127.0.0.1:8000", api_key) as obf:       # doctest: +SKIP
...     url = obf.authorize_url("https://yourapp.example.com/zoom/oauth/callback", state="alice-1")
...     # ... later, in your redirect URL's handler:
...     conn = obf.create_connection(code, "https://yourapp.example.com/zoom/oauth/callback",
...                                  metadata={"tenant_user_id": "alice-1"})
...     bot = obf.create_bot("https://zoom.us/j/123456789?pwd=abc", use_zoom_obf=True,
...                          zoom_oauth_connection_user_id=conn.zoom_user_id)
...     link = obf.create_token_link(conn.zoom_user_id, "recall")  # a bot platform's token URLs

:class:`AsyncObfBrokerClient` has the same methods, awaited. Results are frozen dataclasses
(:mod:`obfbroker_client.models`); failures raise :class:`ObfBrokerError` subclasses carrying the
API's ``status``, ``code`` and ``detail``. The client never retries by itself; connection-create is
safe to retry by the server's design (same ``code`` and ``redirect_uri`` within 10 minutes).

The client needs httpx and the standard library only, on purpose: it goes into the customer's
application, beside whatever that already pins, so it brings nothing else along (none of the
broker's own dependencies). It is the ``obfbroker-client`` distribution (``pip install
./clients/python`` from a checkout); the server re-exports it as ``obfbroker.client``. It
verifies no webhook signatures itself: any Standard Webhooks library does, or the few
standard-library lines in docs/webhooks.md.
"""

from obfbroker_client._async import AsyncObfBrokerClient
from obfbroker_client._sync import ObfBrokerClient
from obfbroker_client.errors import (
    AuthenticationError,
    ConflictError,
    InvalidApiKeyError,
    NotFoundError,
    ObfBrokerError,
    ServiceUnavailableError,
    TransportError,
    ValidationError,
)
from obfbroker_client.models import (
    Bot,
    BotEvent,
    BotStatus,
    Connection,
    ConnectionDeleted,
    LastError,
    Page,
    ReconnectUrl,
    TokenLink,
    TokenLinkCreated,
    TokenLinkPlatform,
    TokenLinkRevoked,
    TokenLinkTokenType,
    TokenLinkUse,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookRetry,
    ZoomApp,
)

__all__ = [
    "AsyncObfBrokerClient",
    "AuthenticationError",
    "Bot",
    "BotEvent",
    "BotStatus",
    "ConflictError",
    "Connection",
    "ConnectionDeleted",
    "InvalidApiKeyError",
    "LastError",
    "NotFoundError",
    "ObfBrokerClient",
    "ObfBrokerError",
    "Page",
    "ReconnectUrl",
    "ServiceUnavailableError",
    "TokenLink",
    "TokenLinkCreated",
    "TokenLinkPlatform",
    "TokenLinkRevoked",
    "TokenLinkTokenType",
    "TokenLinkUse",
    "TransportError",
    "ValidationError",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookRetry",
    "ZoomApp",
]
