from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from obfbroker.openapi import NO_WHITESPACE
from obfbroker.schemas import Timestamp

# pydantic checks ^\S+$ (its message names it); the document spells out the same characters.
PATTERN = r"^\S+$"
DOCUMENTED = {"pattern": NO_WHITESPACE}


class ZoomAppWrite(BaseModel):
    """The customer's Zoom OAuth app. Secrets are write-only."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "client_id": "AbCdEfGhIjKlMnOp", "client_secret": "zoom-client-secret-value",
        "webhook_secret_token": "zoom-webhook-secret-token"}]})

    client_id: str = Field(min_length=1, max_length=200, pattern=PATTERN, json_schema_extra=DOCUMENTED,
                           description="The Zoom app's Client ID")
    client_secret: str = Field(min_length=1, max_length=500, pattern=PATTERN, json_schema_extra=DOCUMENTED,
                               description="The Zoom app's Client Secret; required on every PUT, never "
                                           "returned")
    webhook_secret_token: str | None = Field(
        default=None, min_length=1, max_length=500, pattern=PATTERN, json_schema_extra=DOCUMENTED,
        description="Zoom's event-subscription secret token. Omit to keep the stored one; null to remove it. "
                    "Never returned.",
    )


class ZoomAppRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "client_id": "AbCdEfGhIjKlMnOp", "has_client_secret": True, "has_webhook_secret_token": True,
        "webhook_url": "https://broker.example.com/webhooks/zoom/app_5996b94dc8c17fdba241c745",
        "created_at": "2026-11-29T08:24:01.826Z", "updated_at": "2026-11-29T08:24:01.826Z"}]})

    client_id: str
    has_client_secret: bool = Field(description="Always true once set")
    has_webhook_secret_token: bool
    webhook_url: str = Field(json_schema_extra={"format": "uri"},
                             description="Paste into the Zoom app's event subscription.")
    created_at: Timestamp
    updated_at: Timestamp
