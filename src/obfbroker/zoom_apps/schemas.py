from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from obfbroker.openapi import NO_WHITESPACE
from obfbroker.schemas import Timestamp
from obfbroker.zoom_apps.models import AppKind

# pydantic checks ^\S+$ (its message names it); the document spells out the same characters.
PATTERN = r"^\S+$"
DOCUMENTED = {"pattern": NO_WHITESPACE}
KIND_DESCRIPTION = ("user_managed: each end-user authorizes the app for themselves (one connection per Zoom "
                    "user); the only kind so far")
EXAMPLE = {"client_id": "AbCdEfGhIjKlMnOp", "client_secret": "zoom-client-secret-value",
           "webhook_secret_token": "zoom-webhook-secret-token"}


class ZoomAppWrite(BaseModel):
    """The customer's Zoom OAuth app (PUT replaces it). Secrets are write-only."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

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
    name: str | None = Field(default=None, max_length=100,
                             description="Your name for the app (e.g. production); omit to keep it")


class ZoomAppReplace(ZoomAppWrite):
    """One of the account's apps, replaced (PUT /api/v1/zoom/oauth/apps/{app_id})."""

    default: StrictBool | None = Field(
        default=None, description="true makes it the account's default app; false on the default leaves the "
                                  "account without one")


class ZoomAppCreate(BaseModel):
    """A further Zoom app for the account (POST /api/v1/zoom/oauth/apps). Secrets are write-only."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {**EXAMPLE, "name": "internal"}]})

    client_id: str = Field(min_length=1, max_length=200, pattern=PATTERN, json_schema_extra=DOCUMENTED,
                           description="The Zoom app's Client ID (one app per Client ID in an account)")
    client_secret: str = Field(min_length=1, max_length=500, pattern=PATTERN, json_schema_extra=DOCUMENTED,
                               description="The Zoom app's Client Secret, never returned")
    webhook_secret_token: str | None = Field(
        default=None, min_length=1, max_length=500, pattern=PATTERN, json_schema_extra=DOCUMENTED,
        description="Zoom's event-subscription secret token, never returned")
    name: str = Field(default="", max_length=100, description="Your name for the app (e.g. production)")
    default: StrictBool | None = Field(
        default=None, description="true makes it the account's default app (the account's first app is the "
                                  "default anyway)")


class ZoomAppRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "app_id": "app_5996b94dc8c17fdba241c745", "name": "production", "kind": "user_managed",
        "is_default": True, "scopes": ["user:read:user", "user:read:token"],
        "client_id": "AbCdEfGhIjKlMnOp", "has_client_secret": True, "has_webhook_secret_token": True,
        "webhook_url": "https://broker.example.com/webhooks/zoom/app_5996b94dc8c17fdba241c745",
        "created_at": "2026-11-29T08:24:01.826Z", "updated_at": "2026-11-29T08:24:01.826Z"}]})

    app_id: str = Field(description="Names the app in app_id parameters (and ends its webhook_url)")
    name: str
    kind: AppKind = Field(description=KIND_DESCRIPTION)
    is_default: bool = Field(description="The app every call without an app_id uses")
    scopes: list[str] = Field(description="The scopes a grant of this app must hold (add them to the Zoom "
                                          "app)")
    client_id: str
    has_client_secret: bool = Field(description="Always true once set")
    has_webhook_secret_token: bool
    webhook_url: str = Field(json_schema_extra={"format": "uri"},
                             description="Paste into the Zoom app's event subscription.")
    created_at: Timestamp
    updated_at: Timestamp


class ZoomAppList(BaseModel):
    apps: list[ZoomAppRead] = Field(description="Every app of the account, the oldest first")
