from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

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
    state: str | None = Field(
        default=None,
        description="The state your callback received. When it is a reconnect link's state, the "
                    "code must be that link's Zoom user (else 409 reconnected_other_user).")
    allow_other_user: StrictBool = Field(
        default=False,
        description="Connect whichever Zoom user authorized, even when the reconnect link named "
                    "another one.")


class ConnectionPatch(BaseModel):
    """Body of ``PATCH /api/v1/zoom/oauth/connections/{zoom_user_id}``: only metadata changes."""

    model_config = ConfigDict(extra="forbid")

    metadata: Any = Field(description=f"Replaces the stored metadata: a JSON object of at most "
                                      f"{METADATA_MAX_BYTES} bytes.")


class ReconnectUrlCreate(BaseModel):
    """Body of ``POST /api/v1/zoom/oauth/connections/{zoom_user_id}/reconnect-url``."""

    redirect_uri: str | None = Field(default=None, description="Your OAuth callback URL, as for "
                                                               "authorize-url.")
    state: str | None = Field(default=None, description="Round-tripped to your callback; "
                                                        "generated (obfrc_...) when omitted.")


class ReconnectUrl(BaseModel):
    authorize_url: str = Field(description="Send the end-user's browser here.")
    state: str = Field(description="Pass it back as connection-create's state.")
    expires_at: Timestamp = Field(description="After this the link connects like any other.")


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


class LastError(BaseModel):
    """The last failed token refresh or mint of a connection."""

    code: str = Field(description="zoom_unavailable, zoom_rate_limited, app_credentials_rejected, "
                                  "app_not_configured, missing_scopes, zoom_error, refresh_token_invalid, "
                                  "app_deauthorized or deleted_at_zoom")
    message: str = Field(description="What happened, in words")
    at: Timestamp = Field(description="When it happened (kept after a recovery: it says how old it is)")


class ConnectionDetail(ConnectionRead):
    """A connection with its health, beyond the guide's fields (GET and list)."""

    last_refreshed_at: Timestamp | None = Field(description="When Zoom last issued this connection's tokens")
    refresh_token_expires_hint: Timestamp | None = Field(
        description="When Zoom's ~90-day idle expiry would hit if nothing refreshed it (keep-alive does)")
    disconnected_reason: str | None = Field(
        description="Why Zoom no longer lets us act for the user, when disconnected: refresh_token_invalid "
                    "(Zoom rejected the refresh token), app_deauthorized (the user removed the app) or "
                    "deleted_at_zoom (the Zoom user no longer exists)")
    disconnected_at: Timestamp | None
    last_error: LastError | None = Field(
        description="The last failed token refresh or mint, also while still connected (e.g. Zoom down)")
    reconnect_hint: str | None = Field(
        description="When disconnected: what happened and the next step, in words")


class ConnectionList(BaseModel):
    connections: list[ConnectionDetail]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at the end.")


class ConnectionDeleted(BaseModel):
    message: str
    zoom_user_id: str


class AuthorizeUrl(BaseModel):
    authorize_url: str
