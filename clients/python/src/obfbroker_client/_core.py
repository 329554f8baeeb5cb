"""What the sync and async clients share: building requests and turning answers into results
or exceptions. No I/O happens here."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import EllipsisType
from typing import Any
from urllib.parse import quote

import httpx

from obfbroker_client.errors import ObfBrokerError, TransportError, error_class, parse_retry_after
from obfbroker_client.models import (
    Bot,
    BotStatus,
    Connection,
    ConnectionDeleted,
    Page,
    ReconnectUrl,
    TokenLink,
    TokenLinkCreated,
    TokenLinkRevoked,
    TokenLinkUse,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookRetry,
    ZoomApp,
)

API = "/api/v1"
USER_AGENT = "obfbroker-python-client/0.1"
_NO_BODY: Any = object()


@dataclass(frozen=True)
class Call:
    """One HTTP call and how to read its successful answer (``parse=None``: no body)."""

    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = _NO_BODY
    parse: Callable[[Any], Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def segment(value: str, name: str) -> str:
    """A path segment, percent-encoded; empty ids are refused before any request."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    return quote(value, safe="")


def _params(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _page(key: str, item: Callable[[dict[str, Any]], Any]) -> Callable[[Any], Page[Any]]:
    def parse(data: Any) -> Page[Any]:
        return Page(items=tuple(item(x) for x in data.get(key) or ()), next_cursor=data.get("next_cursor"))

    return parse


def _iso(value: datetime | str) -> str:
    """A datetime as ISO 8601 (aware ones in UTC, ``Z``); strings are sent as given."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
            return value.isoformat().replace("+00:00", "Z")
        return value.isoformat()
    return value


# --- the calls, one function per API operation ---------------------------------------------

def _app_path(app_id: str | None) -> str:
    """The default app's path, or one app's."""
    return f"{API}/zoom/oauth/app" if app_id is None else f"{API}/zoom/oauth/apps/{segment(app_id, 'app_id')}"


def get_zoom_app(app_id: str | None = None) -> Call:
    return Call("GET", _app_path(app_id), parse=ZoomApp.from_json)


def put_zoom_app(client_id: str, client_secret: str, webhook_secret_token: str | EllipsisType | None, *,
                 app_id: str | None = None, name: str | None = None, default: bool | None = None) -> Call:
    body: dict[str, Any] = {"client_id": client_id, "client_secret": client_secret}
    if webhook_secret_token is not ...:
        body["webhook_secret_token"] = webhook_secret_token
    if name is not None:
        body["name"] = name
    if default is not None:
        if app_id is None:
            raise ValueError("default applies to one app of several: pass app_id")
        body["default"] = default
    return Call("PUT", _app_path(app_id), body=body, parse=ZoomApp.from_json)


def delete_zoom_app(app_id: str | None = None) -> Call:
    return Call("DELETE", _app_path(app_id))


def list_zoom_apps() -> Call:
    return Call("GET", f"{API}/zoom/oauth/apps",
                parse=lambda data: tuple(ZoomApp.from_json(app) for app in data.get("apps") or ()))


def create_zoom_app(client_id: str, client_secret: str, webhook_secret_token: str | None, *, name: str,
                    default: bool | None) -> Call:
    body: dict[str, Any] = {"client_id": client_id, "client_secret": client_secret, "name": name}
    if webhook_secret_token is not None:
        body["webhook_secret_token"] = webhook_secret_token
    if default is not None:
        body["default"] = default
    return Call("POST", f"{API}/zoom/oauth/apps", body=body, parse=ZoomApp.from_json)


def authorize_url(redirect_uri: str, state: str | None, app_id: str | None = None) -> Call:
    return Call("GET", f"{API}/zoom/oauth/authorize-url",
                params=_params(redirect_uri=redirect_uri, state=state, app_id=app_id),
                parse=lambda data: data["authorize_url"])


def _idempotency(key: str | None) -> dict[str, str]:
    if key is None:
        return {}
    if not isinstance(key, str) or not key or len(key) > 255 or not key.isascii() or not key.isprintable():
        raise ValueError("idempotency_key must be 1 to 255 printable ASCII characters")
    return {"Idempotency-Key": key}


def create_connection(code: str, redirect_uri: str, metadata: dict[str, Any] | None,
                      idempotency_key: str | None = None, *, state: str | None = None,
                      allow_other_user: bool = False, app_id: str | None = None) -> Call:
    body: dict[str, Any] = {"code": code, "redirect_uri": redirect_uri}
    if metadata is not None:
        body["metadata"] = metadata
    if state is not None:
        body["state"] = state
    if allow_other_user:
        body["allow_other_user"] = True
    if app_id is not None:
        body["app_id"] = app_id
    return Call("POST", f"{API}/zoom/oauth/connections", body=body, parse=Connection.from_json,
                headers=_idempotency(idempotency_key))


def _timestamp_param(value: datetime | str | None, name: str) -> str | None:
    """RFC 3339 with an offset, as the list filters require; a naive datetime is refused here
    rather than guessed at."""
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware datetime (e.g. datetime.now(UTC))")
    return None if value is None else _iso(value)


def _metadata_value(key: str, value: Any) -> str:
    """A metadata filter value as the API matches it: strings as is, numbers (and ``None``) as
    JSON text, booleans ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, int | float):
        return json.dumps(value)
    raise ValueError(f"metadata[{key!r}] must be a string, number, boolean or None to filter on")


def connection_filters(*, state: str | None = None, email: str | None = None,
                       zoom_account_id: str | None = None, metadata: dict[str, Any] | None = None,
                       created_after: datetime | str | None = None,
                       created_before: datetime | str | None = None) -> dict[str, Any]:
    """The list's filter query parameters (AND-ed; the server checks their rules)."""
    params = _params(state=state, email=email, zoom_account_id=zoom_account_id,
                     created_after=_timestamp_param(created_after, "created_after"),
                     created_before=_timestamp_param(created_before, "created_before"))
    for key, value in (metadata or {}).items():
        params[f"metadata.{key}"] = _metadata_value(key, value)
    return params


def list_connections(limit: int, cursor: str | None, filters: dict[str, Any]) -> Call:
    return Call("GET", f"{API}/zoom/oauth/connections",
                params={**filters, **_params(limit=limit, cursor=cursor)},
                parse=_page("connections", Connection.from_json))


def _connection_path(zoom_user_id: str) -> str:
    return f"{API}/zoom/oauth/connections/{segment(zoom_user_id, 'zoom_user_id')}"


def get_connection(zoom_user_id: str) -> Call:
    return Call("GET", _connection_path(zoom_user_id), parse=Connection.from_json)


def update_connection(zoom_user_id: str, metadata: dict[str, Any]) -> Call:
    return Call("PATCH", _connection_path(zoom_user_id), body={"metadata": metadata},
                parse=Connection.from_json)


def delete_connection(zoom_user_id: str) -> Call:
    return Call("DELETE", _connection_path(zoom_user_id), parse=ConnectionDeleted.from_json)


def reconnect_url(zoom_user_id: str, redirect_uri: str, state: str | None) -> Call:
    body: dict[str, Any] = {"redirect_uri": redirect_uri}
    if state is not None:
        body["state"] = state
    return Call("POST", f"{_connection_path(zoom_user_id)}/reconnect-url", body=body,
                parse=ReconnectUrl.from_json)


def create_bot(meeting_link: str, *, bot_name: str | None, audio_required: bool | None,
               video_required: bool | None, use_zoom_obf: bool | None,
               zoom_oauth_connection_user_id: str | None, callback_url: str | None,
               custom_attributes: dict[str, Any] | None, join_at: datetime | str | None,
               extra: dict[str, Any], deduplication_key: str | None = None,
               idempotency_key: str | None = None,
               zoom_oauth_connection_user_ids: list[str] | None = None) -> Call:
    body: dict[str, Any] = {"meeting_link": meeting_link}
    zoom = extra.pop("zoom", None)
    zoom = dict(zoom) if isinstance(zoom, dict) else zoom
    if use_zoom_obf is not None or zoom_oauth_connection_user_id is not None \
            or zoom_oauth_connection_user_ids is not None:
        zoom = zoom if isinstance(zoom, dict) else {}
        if use_zoom_obf is not None:
            zoom["use_zoom_obf"] = use_zoom_obf
        if zoom_oauth_connection_user_id is not None:
            zoom["zoom_oauth_connection_user_id"] = zoom_oauth_connection_user_id
        if zoom_oauth_connection_user_ids is not None:
            zoom["zoom_oauth_connection_user_ids"] = list(zoom_oauth_connection_user_ids)
    optional = {"bot_name": bot_name, "audio_required": audio_required, "video_required": video_required,
                "zoom": zoom, "callback_url": callback_url, "custom_attributes": custom_attributes,
                "join_at": _iso(join_at) if join_at is not None else None,
                "deduplication_key": deduplication_key}
    body.update({k: v for k, v in optional.items() if v is not None})
    body.update(extra)
    return Call("POST", f"{API}/bots/create_bot", body=body, parse=Bot.from_json,
                headers=_idempotency(idempotency_key))


def get_bot(bot_id: str) -> Call:
    return Call("GET", f"{API}/bots/{segment(bot_id, 'bot_id')}", parse=Bot.from_json)


def get_bot_detail(bot_id: str) -> Call:
    return Call("GET", f"{API}/bots/{segment(bot_id, 'bot_id')}/detail", parse=Bot.from_json)


def get_bot_status(bot_id: str) -> Call:
    return Call("GET", f"{API}/bots/{segment(bot_id, 'bot_id')}/status", parse=BotStatus.from_json)


def list_bots(limit: int, cursor: str | None, status: str | None,
              zoom_oauth_connection_user_id: str | None) -> Call:
    params = _params(limit=limit, cursor=cursor, status=status,
                     zoom_oauth_connection_user_id=zoom_oauth_connection_user_id)
    return Call("GET", f"{API}/bots", params=params, parse=_page("bots", Bot.from_json))


def leave_bot(bot_id: str) -> Call:
    return Call("POST", f"{API}/bots/{segment(bot_id, 'bot_id')}/leave", parse=Bot.from_json)


def put_webhook(url: str) -> Call:
    return Call("PUT", f"{API}/webhooks", body={"url": url}, parse=WebhookEndpoint.from_json)


def get_webhook() -> Call:
    return Call("GET", f"{API}/webhooks", parse=WebhookEndpoint.from_json)


def delete_webhook() -> Call:
    return Call("DELETE", f"{API}/webhooks")


def list_webhook_deliveries(limit: int, cursor: str | None) -> Call:
    return Call("GET", f"{API}/webhooks/deliveries", params=_params(limit=limit, cursor=cursor),
                parse=_page("deliveries", WebhookDelivery.from_json))


def retry_webhook_delivery(message_id: str) -> Call:
    return Call("POST", f"{API}/webhooks/deliveries/{segment(message_id, 'message_id')}/retry",
                parse=WebhookRetry.from_json)


TOKEN_LINKS = f"{API}/zoom/token-links"


def create_token_link(zoom_user_id: str, platform: str, *, meeting_link: str | None,
                      token_types: Sequence[str] | None, expires_at: datetime | str | None,
                      max_uses: int | None, metadata: dict[str, Any] | None, platform_secret: str | None,
                      idempotency_key: str | None) -> Call:
    if isinstance(token_types, str):
        raise ValueError("token_types must be a list of token types, e.g. ['onbehalf', 'zak']")
    body: dict[str, Any] = {"zoom_user_id": zoom_user_id, "platform": platform}
    optional = {"meeting_link": meeting_link,
                "token_types": None if token_types is None else list(token_types),
                "expires_at": _timestamp_param(expires_at, "expires_at"), "max_uses": max_uses,
                "metadata": metadata, "platform_secret": platform_secret}
    body.update({k: v for k, v in optional.items() if v is not None})
    return Call("POST", TOKEN_LINKS, body=body, parse=TokenLinkCreated.from_json,
                headers=_idempotency(idempotency_key))


def list_token_links(limit: int, cursor: str | None, zoom_user_id: str | None, platform: str | None) -> Call:
    return Call("GET", TOKEN_LINKS,
                params=_params(limit=limit, cursor=cursor, zoom_user_id=zoom_user_id, platform=platform),
                parse=_page("token_links", TokenLink.from_json))


def _token_link_path(link_id: str) -> str:
    return f"{TOKEN_LINKS}/{segment(link_id, 'link_id')}"


def get_token_link(link_id: str) -> Call:
    return Call("GET", _token_link_path(link_id), parse=TokenLink.from_json)


def revoke_token_link(link_id: str) -> Call:
    return Call("DELETE", _token_link_path(link_id), parse=TokenLinkRevoked.from_json)


def list_token_link_uses(link_id: str, limit: int, cursor: str | None) -> Call:
    return Call("GET", f"{_token_link_path(link_id)}/uses", params=_params(limit=limit, cursor=cursor),
                parse=_page("uses", TokenLinkUse.from_json))


# --- shared client state and answer handling -------------------------------------------------

class ClientCore:
    """Configuration both clients share. The API key lives only in the request headers and in
    a private attribute used to scrub it from error texts; it is never part of ``repr``."""

    def __init__(self, base_url: str, api_key: str, timeout: float | httpx.Timeout) -> None:
        if not isinstance(base_url, str) or not base_url.strip():
            raise ValueError("base_url is required, e.g. http://127.0.0.1:8000")
        if not isinstance(api_key, str) or not api_key.strip():
            raise ValueError("api_key is required (the account's obfbroker API key)")
        if any(ch.isspace() for ch in api_key.strip()):
            raise ValueError("api_key must not contain whitespace")
        self.base_url = base_url.strip().rstrip("/")
        self._api_key = api_key.strip()
        self.timeout = timeout

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self._api_key}", "Accept": "application/json",
                "User-Agent": USER_AGENT}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key='***')"

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    def _request(self, call: Call) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if call.params:
            kwargs["params"] = call.params
        if call.body is not _NO_BODY:
            kwargs["json"] = call.body
        if call.headers:
            kwargs["headers"] = call.headers
        return kwargs

    def _transport_error(self, call: Call, exc: Exception) -> TransportError:
        kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
        reason = self._scrub(str(exc)) or type(exc).__name__
        detail = f"Request to obfbroker at {self.base_url} {kind}: {type(exc).__name__}: {reason}"
        code = "timeout" if kind == "timed out" else "transport_error"
        return TransportError(detail, status=None, code=code, method=call.method, path=call.path)

    def _result(self, call: Call, response: httpx.Response) -> Any:
        if response.is_success:
            if call.parse is None:
                return None
            try:
                data = response.json()
                return call.parse(data)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise ObfBrokerError(
                    f"obfbroker answered {response.status_code} with a body this client cannot read "
                    f"({type(exc).__name__})", status=response.status_code, code="invalid_response",
                    method=call.method, path=call.path) from None
        raise self._error(call, response)

    def _error(self, call: Call, response: httpx.Response) -> ObfBrokerError:
        status = response.status_code
        body: dict[str, Any] = {}
        try:
            decoded = response.json()
            if isinstance(decoded, dict):
                body = {k: self._scrub(v) if isinstance(v, str) else v for k, v in decoded.items()}
        except (ValueError, UnicodeDecodeError):
            pass
        detail = body.get("detail") if body.get("detail") is not None else body.get("message")
        if detail is None:
            text = response.text.strip()
            detail = (f"HTTP {status} {response.reason_phrase}".strip()
                      + (f": {text[:200]}" if text and len(text) <= 200 and "<" not in text else ""))
        elif not isinstance(detail, str):
            detail = json.dumps(detail)
        code = body.get("code") if isinstance(body.get("code"), str) else f"http_{status}"
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return error_class(status)(self._scrub(detail), status=status, code=code, retry_after=retry_after,
                                   body=body, method=call.method, path=call.path)
