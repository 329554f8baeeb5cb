from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from obfbroker.schemas import Timestamp


class ZoomAppWrite(BaseModel):
    """The customer's Zoom OAuth app. Secrets are write-only."""

    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(min_length=1, max_length=200, pattern=r"^\S+$")
    client_secret: str = Field(min_length=1, max_length=500, pattern=r"^\S+$")
    webhook_secret_token: str | None = Field(
        default=None, min_length=1, max_length=500, pattern=r"^\S+$",
        description="Zoom's event-subscription secret token. Omit to keep the stored one; "
                    "null to remove it.",
    )


class ZoomAppRead(BaseModel):
    client_id: str
    has_client_secret: bool
    has_webhook_secret_token: bool
    webhook_url: str = Field(description="Paste into the Zoom app's event subscription.")
    created_at: Timestamp
    updated_at: Timestamp
