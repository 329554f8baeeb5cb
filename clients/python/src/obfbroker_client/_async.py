"""The asynchronous client: the same methods as ObfBrokerClient, to be awaited."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from types import EllipsisType
from typing import Any

import httpx

from obfbroker_client import _core
from obfbroker_client._core import Call, ClientCore
from obfbroker_client.models import (
    Bot,
    BotStatus,
    Connection,
    ConnectionDeleted,
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


class AsyncObfBrokerClient(ClientCore):
    """An asynchronous client for the obfbroker HTTP API (``/api/v1``), built on
    :class:`httpx.AsyncClient`: the same methods as :class:`ObfBrokerClient`, each awaited
    (the ``iter_*`` methods are async iterators). Use ``async with`` or ``await aclose()``.
    ``transport`` is an optional :class:`httpx.AsyncBaseTransport`.

    The client never retries a call by itself; :meth:`create_connection` is safe to retry by
    the server's design (same ``code`` and ``redirect_uri`` within 10 minutes).
    """

    def __init__(self, base_url: str, api_key: str, *, timeout: float | httpx.Timeout = 30,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(base_url, api_key, timeout)
        self._http = httpx.AsyncClient(base_url=self.base_url, headers=self._headers(), timeout=timeout,
                                  transport=transport, follow_redirects=False)

    # --- lifecycle ---
    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncObfBrokerClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _send(self, call: Call) -> Any:
        try:
            response = await self._http.request(call.method, call.path, **self._request(call))
        except httpx.TransportError as exc:
            raise self._transport_error(call, exc) from None
        return self._result(call, response)

    async def _items(self, page_call: Callable[[str | None], Call]) -> AsyncIterator[Any]:
        """Every item of a list, page after page: ``page_call(cursor)`` is the call for one page."""
        cursor: str | None = None
        while True:
            page = await self._send(page_call(cursor))
            for item in page.items:
                yield item
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    # --- Zoom app credentials ---
    async def get_zoom_app(self, app_id: str | None = None) -> ZoomApp:
        """The account's default Zoom app, or the app ``app_id`` names (secrets are never
        returned). 404 ``zoom_app_not_configured`` / ``zoom_app_not_found``."""
        return await self._send(_core.get_zoom_app(app_id))

    async def put_zoom_app(self, client_id: str, client_secret: str,
                     webhook_secret_token: str | EllipsisType | None = ..., *, app_id: str | None = None,
                     name: str | None = None, default: bool | None = None) -> ZoomApp:
        """Set or replace the default Zoom app's credentials (or those of the app ``app_id``
        names). Leave ``webhook_secret_token`` out to keep the stored one; pass ``None`` to remove
        it. ``default=True`` (with ``app_id``) makes that app the account's default."""
        call = _core.put_zoom_app(client_id, client_secret, webhook_secret_token, app_id=app_id, name=name,
                                  default=default)
        return await self._send(call)

    async def delete_zoom_app(self, app_id: str | None = None) -> None:
        """Remove the default Zoom app (or the app ``app_id`` names); connections are kept."""
        return await self._send(_core.delete_zoom_app(app_id))

    async def list_zoom_apps(self) -> tuple[ZoomApp, ...]:
        """Every Zoom app of the account, the oldest first."""
        return await self._send(_core.list_zoom_apps())

    async def create_zoom_app(self, client_id: str, client_secret: str,
                        webhook_secret_token: str | None = None, *, name: str = "",
                        default: bool | None = None) -> ZoomApp:
        """Add a Zoom app to the account (the first one is the default; ``default=True`` makes
        this one the default). 409 ``zoom_app_exists`` when another app has this client_id."""
        call = _core.create_zoom_app(client_id, client_secret, webhook_secret_token, name=name,
                                     default=default)
        return await self._send(call)

    # --- OAuth connections ---
    async def authorize_url(self, redirect_uri: str, state: str | None = None,
                      app_id: str | None = None) -> str:
        """The Zoom authorize URL to send one end-user's browser to (guide, Step 2.1), for the app
        ``app_id`` names (the default app when None)."""
        return await self._send(_core.authorize_url(redirect_uri, state, app_id))

    async def create_connection(self, code: str, redirect_uri: str,
                                metadata: dict[str, Any] | None = None, *,
                                idempotency_key: str | None = None, state: str | None = None,
                                allow_other_user: bool = False, app_id: str | None = None) -> Connection:
        """Exchange the code from Zoom's redirect for a connection (see
        :meth:`ObfBrokerClient.create_connection` for ``state`` and ``allow_other_user``)."""
        return await self._send(_core.create_connection(code, redirect_uri, metadata, idempotency_key,
                                                        state=state, allow_other_user=allow_other_user,
                                                        app_id=app_id))

    async def list_connections(self, limit: int = 100, cursor: str | None = None, state: str | None = None,
                               *, email: str | None = None, zoom_account_id: str | None = None,
                               metadata: dict[str, Any] | None = None,
                               created_after: datetime | str | None = None,
                               created_before: datetime | str | None = None) -> Page[Connection]:
        """One page of connections, newest first, filtered as :meth:`ObfBrokerClient.list_connections`."""
        filters = _core.connection_filters(state=state, email=email, zoom_account_id=zoom_account_id,
                                           metadata=metadata, created_after=created_after,
                                           created_before=created_before)
        return await self._send(_core.list_connections(limit, cursor, filters))

    def iter_connections(self, state: str | None = None, *, page_size: int = 100,
                         email: str | None = None, zoom_account_id: str | None = None,
                         metadata: dict[str, Any] | None = None,
                         created_after: datetime | str | None = None,
                         created_before: datetime | str | None = None) -> AsyncIterator[Connection]:
        """Every connection matching the filters, newest first, fetching pages as needed."""
        filters = _core.connection_filters(state=state, email=email, zoom_account_id=zoom_account_id,
                                           metadata=metadata, created_after=created_after,
                                           created_before=created_before)
        return self._items(lambda cursor: _core.list_connections(page_size, cursor, filters))

    async def get_connection(self, zoom_user_id: str) -> Connection:
        """One connection with its health fields. 404 ``zoom_user_not_connected``."""
        return await self._send(_core.get_connection(zoom_user_id))

    async def update_connection(self, zoom_user_id: str, *, metadata: dict[str, Any]) -> Connection:
        """Replace a connection's metadata (the only field that can change)."""
        return await self._send(_core.update_connection(zoom_user_id, metadata))

    async def delete_connection(self, zoom_user_id: str) -> ConnectionDeleted:
        """Revoke the grant at Zoom and erase the connection; a second call is 404."""
        return await self._send(_core.delete_connection(zoom_user_id))

    async def reconnect_url(self, zoom_user_id: str, *, redirect_uri: str,
                            state: str | None = None) -> ReconnectUrl:
        """An authorize URL to send this connection's end-user to (see
        :meth:`ObfBrokerClient.reconnect_url`)."""
        return await self._send(_core.reconnect_url(zoom_user_id, redirect_uri, state))

    # --- bots ---
    async def create_bot(self, meeting_link: str, *, bot_name: str | None = None,
                   audio_required: bool | None = None, video_required: bool | None = None,
                   use_zoom_obf: bool | None = None, zoom_oauth_connection_user_id: str | None = None,
                   callback_url: str | None = None, custom_attributes: dict[str, Any] | None = None,
                   join_at: datetime | str | None = None,
                   deduplication_key: str | None = None, idempotency_key: str | None = None,
                   zoom_oauth_connection_user_ids: list[str] | None = None,
                   **extra: Any) -> Bot:
        """Create a bot (guide, Step 3). ``None`` arguments are left out of the request; any
        ``extra`` keyword (``bot_message``, ``automatic_leave``, ``zoom={...}``...) is sent as a
        top-level field. Never retried by the client; pass ``idempotency_key`` to make your own retries
        safe (the same key and body within 24 hours answers the first bot instead of creating another).
        ``deduplication_key``: no second unfinished bot with this key (409 ``duplicate_bot``).
        ``zoom_oauth_connection_user_ids``: several authorizing users, tried in order (hosted OBF)."""
        return await self._send(_core.create_bot(
            meeting_link, bot_name=bot_name, audio_required=audio_required, video_required=video_required,
            use_zoom_obf=use_zoom_obf, zoom_oauth_connection_user_id=zoom_oauth_connection_user_id,
            callback_url=callback_url, custom_attributes=custom_attributes, join_at=join_at, extra=extra,
            deduplication_key=deduplication_key, idempotency_key=idempotency_key,
            zoom_oauth_connection_user_ids=zoom_oauth_connection_user_ids))

    async def get_bot(self, bot_id: str) -> Bot:
        """A bot with its status timeline. 404 ``bot_not_found``."""
        return await self._send(_core.get_bot(bot_id))

    async def get_bot_detail(self, bot_id: str) -> Bot:
        """The same as :meth:`get_bot`, by the MeetStream-compatible ``/detail`` path."""
        return await self._send(_core.get_bot_detail(bot_id))

    async def get_bot_status(self, bot_id: str) -> BotStatus:
        """Only the bot's current status and reason."""
        return await self._send(_core.get_bot_status(bot_id))

    async def list_bots(self, limit: int = 50, cursor: str | None = None, status: str | None = None,
                  zoom_oauth_connection_user_id: str | None = None) -> Page[Bot]:
        """One page of bots, newest first, optionally only one status or one end-user's."""
        return await self._send(_core.list_bots(limit, cursor, status, zoom_oauth_connection_user_id))

    def iter_bots(self, status: str | None = None, zoom_oauth_connection_user_id: str | None = None, *,
                  page_size: int = 50) -> AsyncIterator[Bot]:
        """Every bot (matching the filters), newest first, fetching pages as needed."""
        return self._items(lambda cursor: _core.list_bots(page_size, cursor, status,
                                                          zoom_oauth_connection_user_id))

    async def leave_bot(self, bot_id: str) -> Bot:
        """Ask the bot to leave its meeting; a bot not yet started ends at once."""
        return await self._send(_core.leave_bot(bot_id))

    # --- customer webhooks ---
    async def put_webhook(self, url: str) -> WebhookEndpoint:
        """Set the webhook URL; the answer's ``secret`` is shown this once (every PUT rotates it)."""
        return await self._send(_core.put_webhook(url))

    async def get_webhook(self) -> WebhookEndpoint:
        """The webhook URL (no secret). 404 ``webhook_not_configured``."""
        return await self._send(_core.get_webhook())

    async def delete_webhook(self) -> None:
        """Remove the webhook URL and its secret."""
        return await self._send(_core.delete_webhook())

    async def list_webhook_deliveries(self, limit: int = 50,
                                      cursor: str | None = None) -> Page[WebhookDelivery]:
        """One page of delivery attempts, newest first."""
        return await self._send(_core.list_webhook_deliveries(limit, cursor))

    def iter_webhook_deliveries(self, *, page_size: int = 50) -> AsyncIterator[WebhookDelivery]:
        """Every delivery attempt, newest first, fetching pages as needed."""
        return self._items(lambda cursor: _core.list_webhook_deliveries(page_size, cursor))

    async def retry_webhook_delivery(self, message_id: str) -> WebhookRetry:
        """Queue a webhook message to be sent again now."""
        return await self._send(_core.retry_webhook_delivery(message_id))

    # --- token links ---
    async def create_token_link(self, zoom_user_id: str, platform: TokenLinkPlatform, *,
                                meeting_link: str | None = None,
                                token_types: Sequence[TokenLinkTokenType] | None = None,
                                expires_at: datetime | str | None = None, max_uses: int | None = None,
                                metadata: dict[str, Any] | None = None, platform_secret: str | None = None,
                                idempotency_key: str | None = None) -> TokenLinkCreated:
        """A URL that ``platform``'s bots call for a fresh Zoom token of one connected Zoom user
        (see :meth:`ObfBrokerClient.create_token_link`). The answer's ``urls`` carry the link's
        secret and are shown this once."""
        return await self._send(_core.create_token_link(
            zoom_user_id, platform, meeting_link=meeting_link, token_types=token_types, expires_at=expires_at,
            max_uses=max_uses, metadata=metadata, platform_secret=platform_secret,
            idempotency_key=idempotency_key))

    async def list_token_links(self, limit: int = 100, cursor: str | None = None, *,
                               zoom_user_id: str | None = None,
                               platform: TokenLinkPlatform | None = None) -> Page[TokenLink]:
        """One page of token links (never their URLs), newest first, optionally filtered."""
        return await self._send(_core.list_token_links(limit, cursor, zoom_user_id, platform))

    def iter_token_links(self, *, zoom_user_id: str | None = None, platform: TokenLinkPlatform | None = None,
                         page_size: int = 100) -> AsyncIterator[TokenLink]:
        """Every token link matching the filters, newest first, fetching pages as needed."""
        return self._items(lambda cursor: _core.list_token_links(page_size, cursor, zoom_user_id, platform))

    async def get_token_link(self, link_id: str) -> TokenLink:
        """A token link (never its URLs). 404 ``token_link_not_found``."""
        return await self._send(_core.get_token_link(link_id))

    async def revoke_token_link(self, link_id: str) -> TokenLinkRevoked:
        """Revoke a token link: every call to it answers 410 ``token_link_revoked`` from now on."""
        return await self._send(_core.revoke_token_link(link_id))

    async def list_token_link_uses(self, link_id: str, limit: int = 100,
                                   cursor: str | None = None) -> Page[TokenLinkUse]:
        """One page of a token link's calls (minted or refused), newest first."""
        return await self._send(_core.list_token_link_uses(link_id, limit, cursor))

    def iter_token_link_uses(self, link_id: str, *, page_size: int = 100) -> AsyncIterator[TokenLinkUse]:
        """Every call of a token link, newest first, fetching pages as needed."""
        _core.segment(link_id, "link_id")  # refused now, not at the first iteration
        return self._items(lambda cursor: _core.list_token_link_uses(link_id, page_size, cursor))
