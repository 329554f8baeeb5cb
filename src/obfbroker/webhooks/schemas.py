from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from obfbroker.openapi import error_responses, url_schema
from obfbroker.outbound import AddressClass
from obfbroker.outbox.models import MessageStatus
from obfbroker.schemas import Timestamp

URL_MAX_LENGTH = 2048
EVENTS_URL = "https://yourapp.example.com/obfbroker/events"
DELIVERY_EXAMPLE = {
    "id": "whd_b9a1dc6a1620002b4b401948", "message_id": "msg_9229fbf88641abb4076d3ce9",
    "event_type": "zoom_oauth_connection.reconnected", "target": "webhook_endpoint", "attempt": 1,
    "attempted_at": "2026-11-29T09:17:46.072Z", "succeeded": True, "response_status": 200, "error": None,
    "response_body": None, "duration_ms": 23, "message_status": "delivered", "next_attempt_at": None}


class WebhookEndpointWrite(BaseModel):
    """Body of ``PUT /api/v1/webhooks``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"url": EVENTS_URL}]})

    url: str = Field(min_length=1, max_length=URL_MAX_LENGTH, json_schema_extra=url_schema(),
                     description="https URL that receives events, to a public address (plain http only "
                                 "to a host the operator allows for development; where the host resolves "
                                 "is checked at every delivery); no credentials, whitespace or control "
                                 "characters.")


class WebhookEndpointRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "url": EVENTS_URL, "created_at": "2026-11-29T09:17:45.580Z",
        "updated_at": "2026-11-29T09:17:45.580Z"}]})

    url: str = Field(description="As stored")
    created_at: Timestamp
    updated_at: Timestamp


class WebhookEndpointCreated(BaseModel):
    """The answer to a PUT: the only response that ever holds the signing secret."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "url": EVENTS_URL, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "created_at": "2026-11-29T09:17:45.580Z", "updated_at": "2026-11-29T09:17:45.580Z"}]})

    url: str = Field(description="As stored")
    secret: str = Field(pattern=r"^whsec_[A-Za-z0-9+/=]+$",
                        description="Standard Webhooks signing secret (whsec_...). Shown only here; every "
                                    "PUT replaces it.")
    created_at: Timestamp
    updated_at: Timestamp


REFUSALS = ["plain_http", *AddressClass]
REFUSAL_PATTERN = (r"^(timeout|connection_error|request_error|http_[0-9]{3}|refused_("
                   + "|".join(REFUSALS) + "))$")


class WebhookDeliveryRead(BaseModel):
    id: str
    message_id: str = Field(description="The webhook-id header of the message, the same on every attempt")
    event_type: str
    target: Literal["webhook_endpoint", "callback_url"] = Field(
        description="webhook_endpoint (your webhook endpoint) or callback_url (a bot's callback_url, whose "
                    "event_type is its bot_event)")
    attempt: int = Field(ge=1)
    attempted_at: Timestamp
    succeeded: bool
    response_status: int | None = Field(description="HTTP status, or null when none came back.")
    error: str | None = Field(pattern=REFUSAL_PATTERN, description=(
        "timeout, connection_error, request_error or http_<status>; or, when nothing was sent because "
        "the outbound policy refused it, refused_plain_http (plain http to a host not allowed for "
        "development) or refused_<class of the address the host resolved to>: "
        + ", ".join(f"refused_{kind}" for kind in AddressClass) + ". Null on success."))
    response_body: str | None = Field(description="The first 256 characters of your response.")
    duration_ms: int = Field(ge=0)
    message_status: MessageStatus = Field(description="pending, delivered or failed")
    next_attempt_at: Timestamp | None = Field(description="When the message is sent next (pending only).")


class WebhookDeliveryList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"deliveries": [DELIVERY_EXAMPLE],
                                                               "next_cursor": None}]})

    deliveries: list[WebhookDeliveryRead]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at the end.")


class WebhookRetryAccepted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"message_id": "msg_eee67564663fe271595d4729",
                                                               "status": "pending"}]})

    message_id: str
    status: MessageStatus = Field(description="pending: it goes out at the next delivery round")


ZOOM_WEBHOOK_DESCRIPTION = (
    "Receives one of Zoom's event notifications for your Zoom app; Zoom calls it, you don't. No API key: "
    "every request must carry Zoom's signature made with the app's webhook_secret_token (x-zm-signature over "
    "v0:<x-zm-request-timestamp>:<raw body>), a timestamp within 5 minutes and a signature not seen before. "
    "endpoint.url_validation is answered with the challenge's encryptedToken; app_deauthorized disconnects "
    "that user's connection and deletes its tokens; other events are ignored. Bodies are never logged, and "
    "answers never contain a secret.")
_ZM_HEADERS = [
    {"name": "x-zm-request-timestamp", "in": "header", "required": True,
     "description": "When Zoom sent the request, in Unix "
                    "seconds", "schema": {"type": "string", "pattern": "^[0-9]+$"}},
    {"name": "x-zm-signature", "in": "header", "required": True,
     "description": "v0= and the hex HMAC-SHA256 of v0:<timestamp>:<raw body>, keyed with the "
                    "webhook_secret_token",
     "schema": {"type": "string", "pattern": "^v0=[0-9a-f]{64}$"}},
]
ZOOM_WEBHOOK_REQUEST = {"parameters": _ZM_HEADERS, "requestBody": {"required": True, "content": {
    "application/json": {"schema": {
        "type": "object", "required": ["event"], "additionalProperties": True,
        "properties": {"event": {"type": "string", "description": "The event name, e.g. app_deauthorized"},
                       "payload": {"type": "object"}, "event_ts": {"type": "integer"}},
        "description": "Zoom's event: a JSON object of at most 64 KiB"},
        "example": {"event": "endpoint.url_validation", "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"},
                    "event_ts": 1795943866499}}}}}
ZOOM_WEBHOOK_RESPONSES = {
    200: {"description": "The challenge answered, or what was done with the event", "content": {
        "application/json": {"schema": {"oneOf": [
            {"type": "object", "required": ["plainToken", "encryptedToken"],
             "properties": {"plainToken": {"type": "string"},
                            "encryptedToken": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}},
            {"type": "object", "required": ["status"], "properties": {
                "status": {"type": "string", "enum": ["disconnected", "unknown_user", "ignored"]}}}]},
            "example": {"status": "disconnected"}}}},
    **error_responses("invalid_zoom_event", "invalid_zoom_signature", "zoom_app_not_found",
                      "payload_too_large",
                      status={"payload_too_large": 413}, auth=False, messages={
                          "payload_too_large": "Request body too large: at most 65536 bytes"})}
