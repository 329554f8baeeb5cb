from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from obfbroker.schemas import Timestamp

METADATA_MAX_BYTES = 16 * 1024


class ConnectionCreate(BaseModel):
    """Body of ``POST /api/v1/zoom/oauth/connections`` (guide, Step 2)."""

    code: str = Field(description="The authorization code from Zoom's redirect to your callback.")
    redirect_uri: str = Field(description="Byte-for-byte the redirect URI used at authorize-url.")
    metadata: Any = Field(
        default=None,
        description=f"Your own JSON object (at most {METADATA_MAX_BYTES} bytes), returned as is. "
                    "Omitted on re-authorization: the stored metadata is kept.",
    )


class ConnectionRead(BaseModel):
    """A connection as the guide shows it. It has no field that could hold token material."""

    zoom_user_id: str
    zoom_account_id: str
    email: str
    display_name: str
    metadata: dict[str, Any]
    state: str = Field(description="connected or disconnected")
    created_at: Timestamp
    updated_at: Timestamp
    has_refresh_token: bool


class ConnectionDetail(ConnectionRead):
    """A connection with its health, beyond the guide's fields (GET and list)."""

    last_refreshed_at: Timestamp | None = Field(description="When Zoom last issued this connection's tokens")
    refresh_token_expires_hint: Timestamp | None = Field(
        description="When Zoom's ~90-day idle expiry would hit if nothing refreshed it (keep-alive does)")
    disconnected_reason: str | None = Field(
        description="refresh_token_invalid, deauthorized or deleted, when disconnected")
    disconnected_at: Timestamp | None


class ConnectionList(BaseModel):
    connections: list[ConnectionDetail]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at the end.")


class ConnectionDeleted(BaseModel):
    message: str
    zoom_user_id: str


class AuthorizeUrl(BaseModel):
    authorize_url: str
