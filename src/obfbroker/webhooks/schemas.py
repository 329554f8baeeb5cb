from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from obfbroker.schemas import Timestamp

URL_MAX_LENGTH = 2048


class WebhookEndpointWrite(BaseModel):
    """Body of ``PUT /api/v1/webhooks``."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=URL_MAX_LENGTH,
                     description="https URL that receives events (http only for localhost).")


class WebhookEndpointRead(BaseModel):
    url: str
    created_at: Timestamp
    updated_at: Timestamp


class WebhookEndpointCreated(BaseModel):
    """The answer to a PUT: the only response that ever holds the signing secret."""

    url: str
    secret: str = Field(description="Standard Webhooks signing secret (whsec_...). Shown only "
                                    "here; every PUT replaces it.")
    created_at: Timestamp
    updated_at: Timestamp


class WebhookDeliveryRead(BaseModel):
    id: str
    message_id: str
    event_type: str
    target: str = Field(description="webhook_endpoint (your webhook endpoint) or callback_url (a bot's "
                                    "callback_url, whose event_type is its bot_event)")
    attempt: int
    attempted_at: Timestamp
    succeeded: bool
    response_status: int | None = Field(description="HTTP status, or null when none came back.")
    error: str | None = Field(description="timeout, connection_error, request_error or http_<status>; "
                                          "null on success.")
    response_body: str | None = Field(description="The first 256 characters of your response.")
    duration_ms: int
    message_status: str = Field(description="pending, delivered or failed")
    next_attempt_at: Timestamp | None = Field(description="When the message is sent next (pending only).")


class WebhookDeliveryList(BaseModel):
    deliveries: list[WebhookDeliveryRead]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at the end.")


class WebhookRetryAccepted(BaseModel):
    message_id: str
    status: str

