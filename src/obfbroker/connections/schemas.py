from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from obfbroker.connections.models import ConnectionState, DisconnectReason, FailureCode
from obfbroker.openapi import NOT_BLANK, REQUIRED_BY_CODE, URL_WITHOUT_FRAGMENT, url_schema
from obfbroker.schemas import Timestamp

METADATA_MAX_BYTES = 16 * 1024
# The service checks these itself, with their own codes and messages (invalid_code,
# invalid_redirect_uri, invalid_state): the schema documents the rules, pydantic doesn't apply them.
CODE_SCHEMA = {"minLength": 1, "maxLength": 2048, "pattern": NOT_BLANK}
STATE_SCHEMA = {"maxLength": 2048}
REDIRECT_URI_DESCRIPTION = ("Your OAuth callback URL, byte for byte the one registered with the Zoom app: "
                            "https (http only for localhost, 127.0.0.1, [::1]), a host, no fragment, no user "
                            "information, no whitespace, at most 2048 characters.")
ALICE = {"zoom_user_id": "yBtfWvb2AJAjbHzdAlv9Em", "zoom_account_id": "qTSyazLTOx9xaZZyb30z5M",
         "email": "alice@example.com", "display_name": "Alice Example",
         "metadata": {"tenant_user_id": "alice-internal-uuid"}, "state": "connected",
         "created_at": "2026-11-29T09:17:45.675Z", "updated_at": "2026-11-29T09:17:45.813Z",
         "has_refresh_token": True}
ALICE_HEALTH = {"last_refreshed_at": "2026-11-29T09:17:45.813Z",
                "refresh_token_expires_hint": "2027-02-27T09:17:45.813Z", "disconnected_reason": None,
                "disconnected_at": None, "last_error": None, "reconnect_hint": None}
CALLBACK = "https://yourapp.example.com/zoom/oauth/callback"
AUTHORIZE_URL = ("https://zoom.us/oauth/authorize?response_type=code&client_id=AbCdEfGhIjKlMnOp&redirect_uri=https%3A%2F%2Fyourapp.example.com%2Fzoom%2Foauth%2Fcallback&state=alice-internal-uuid")
# Built from the two enums, so a code added to either is documented (and accepted) at once.
LastErrorCode = Literal[tuple(code.value for code in (*FailureCode, *DisconnectReason))]  # type: ignore[valid-type]


def _examples(*values: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(values)})


class ConnectionCreate(BaseModel):
    """Body of ``POST /api/v1/zoom/oauth/connections`` (guide, Step 2)."""

    model_config = _examples({"code": "simcode_pod10Vxj5yjIi9R3j_K19WRTyCLk7TIz4nwRxxT8lIs",
                              "redirect_uri": CALLBACK,
                              "metadata": {"tenant_user_id": "alice-internal-uuid"}})

    code: str = Field(json_schema_extra=CODE_SCHEMA,
                      description="The authorization code from Zoom's redirect to your callback (single-use, "
                                  "expires 5 minutes after consent).")
    redirect_uri: str = Field(json_schema_extra=url_schema(URL_WITHOUT_FRAGMENT),
                              description=f"Byte-for-byte the redirect URI used at authorize-url. "
                                          f"{REDIRECT_URI_DESCRIPTION}")
    metadata: Any = Field(
        default=None, json_schema_extra={"type": ["object", "null"]},
        description=f"Your own JSON object (at most {METADATA_MAX_BYTES} bytes), returned as is. "
                    "Omitted or null on re-authorization: the stored metadata is kept.",
    )
    state: str | None = Field(
        default=None, json_schema_extra=STATE_SCHEMA,
        description="The state your callback received. When it is a reconnect link's state, the code must be "
                    "that link's Zoom user (else 409 reconnected_other_user).")
    allow_other_user: StrictBool = Field(
        default=False,
        description="Connect whichever Zoom user authorized, even when the reconnect link named another one.")
    app_id: str | None = Field(
        default=None, max_length=40,
        description="The app the code was issued for (its app_id, as at authorize-url); without it, the app "
                    "of the reconnect link the state names, else your default app.")


class ConnectionPatch(BaseModel):
    """Body of ``PATCH /api/v1/zoom/oauth/connections/{zoom_user_id}``: only metadata changes."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"metadata": {"tenant_user_id": "alice-internal-uuid", "plan": "enterprise", "seats": 40}}]})

    metadata: Any = Field(json_schema_extra={"type": "object"},
                          description=f"Replaces the stored metadata: a JSON object of at most "
                                      f"{METADATA_MAX_BYTES} bytes.")


class ReconnectUrlCreate(BaseModel):
    """Body of ``POST /api/v1/zoom/oauth/connections/{zoom_user_id}/reconnect-url``."""

    model_config = _examples({"redirect_uri": CALLBACK}, {"redirect_uri": CALLBACK,
                                                         "state": "alice-internal-uuid"})

    redirect_uri: str | None = Field(default=None, json_schema_extra=url_schema(
                                         URL_WITHOUT_FRAGMENT, **{REQUIRED_BY_CODE: True}),
                                     description=f"Required. {REDIRECT_URI_DESCRIPTION}")
    state: str | None = Field(default=None, json_schema_extra=STATE_SCHEMA,
                              description="Round-tripped to your callback; generated (obfrc_...) when "
                                          "omitted or empty.")


class ReconnectUrl(BaseModel):
    model_config = _examples({"authorize_url": AUTHORIZE_URL.replace("alice-internal-uuid", "obfrc_TNT-4TD"),
                              "state": "obfrc_TNT-4TD", "expires_at": "2026-12-03T13:38:50.001Z"})

    authorize_url: str = Field(json_schema_extra={"format": "uri"},
                               description="Send the end-user's browser here.")
    state: str = Field(description="Pass it back as connection-create's state.")
    expires_at: Timestamp = Field(description="After this the link connects like any other.")


class ConnectionRead(BaseModel):
    """A connection as the guide shows it. It has no field that could hold token material."""

    model_config = _examples(ALICE)

    zoom_user_id: str
    zoom_account_id: str
    email: str
    display_name: str
    metadata: dict[str, Any]
    state: ConnectionState = Field(description="connected or disconnected")
    created_at: Timestamp
    updated_at: Timestamp
    has_refresh_token: bool


class LastError(BaseModel):
    """The last failed token refresh or mint of a connection."""

    code: LastErrorCode = Field(description="What failed, as a stable code (docs/api.md)")
    message: str = Field(description="What happened, in words")
    at: Timestamp = Field(description="When it happened (kept after a recovery: it says how old it is)")


class ConnectionDetail(ConnectionRead):
    """A connection with its health, beyond the guide's fields (GET and list)."""

    model_config = _examples({**ALICE, **ALICE_HEALTH})

    last_refreshed_at: Timestamp | None = Field(description="When Zoom last issued this connection's tokens")
    refresh_token_expires_hint: Timestamp | None = Field(
        description="When Zoom's ~90-day idle expiry would hit if nothing refreshed it (keep-alive does)")
    disconnected_reason: DisconnectReason | None = Field(
        description="Why Zoom no longer lets us act for the user, when disconnected: refresh_token_invalid "
                    "(Zoom rejected the refresh token), app_deauthorized (the user removed the app) or "
                    "deleted_at_zoom (the Zoom user no longer exists)")
    disconnected_at: Timestamp | None
    last_error: LastError | None = Field(
        description="The last failed token refresh or mint, also while still connected (e.g. Zoom down)")
    reconnect_hint: str | None = Field(
        description="When disconnected: what happened and the next step, in words")


class ConnectionList(BaseModel):
    model_config = _examples({"connections": [{**ALICE, **ALICE_HEALTH}], "next_cursor": None})

    connections: list[ConnectionDetail]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at the end.")


class ConnectionDeleted(BaseModel):
    model_config = _examples({"message": "Zoom user yBtfWvb2AJAjbHzdAlv9Em disconnected",
                              "zoom_user_id": "yBtfWvb2AJAjbHzdAlv9Em"})

    message: str
    zoom_user_id: str


class AuthorizeUrl(BaseModel):
    model_config = _examples({"authorize_url": AUTHORIZE_URL})

    authorize_url: str = Field(json_schema_extra={"format": "uri"},
                               description="Zoom's authorize URL: send the end-user's browser here")
