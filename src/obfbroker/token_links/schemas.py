"""Token links as the API takes and shows them. No schema but ``TokenLinkCreated`` has a URL,
and none has a secret: the link's secret exists in the URLs of the creation answer only."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from obfbroker.connections.schemas import METADATA_MAX_BYTES
from obfbroker.schemas import Timestamp
from obfbroker.token_links.models import LinkKind, LinkState, Platform, RevokedReason, TokenType, UseStatus

MAX_USES = 1_000_000
LINK_EXAMPLE: dict[str, Any] = {
    "id": "tl_5b8c0f2a9d1e4c7b3a6f0e21", "zoom_user_id": "yBtfWvb2AJAjbHzdAlv9Em", "platform": "recall",
    "meeting_link": "https://zoom.us/j/34363334431?pwd=JrgUdOBK", "meeting_number": "34363334431",
    "token_types": ["onbehalf", "zak", "local_recording"], "expires_at": None, "max_uses": None, "uses": 0,
    "metadata": {"recall_bot": "standup"}, "has_platform_secret": False, "state": "active",
    "created_at": "2026-12-07T10:00:00.000Z", "updated_at": "2026-12-07T10:00:00.000Z", "last_used_at": None,
    "revoked_at": None, "revoked_reason": None}
URLS_EXAMPLE = {
    "obf": "https://broker.example.com/token-links/tl_5b8c0f2a9d1e4c7b3a6f0e21/obf?key=<secret>",
    "zak": "https://broker.example.com/token-links/tl_5b8c0f2a9d1e4c7b3a6f0e21/zak?key=<secret>",
    "join_token": "https://broker.example.com/token-links/tl_5b8c0f2a9d1e4c7b3a6f0e21/join_token?key=<secret>"}


class TokenLinkCreate(BaseModel):
    """Body of ``POST /api/v1/zoom/token-links``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"zoom_user_id": "yBtfWvb2AJAjbHzdAlv9Em", "platform": "recall",
         "meeting_link": "https://zoom.us/j/34363334431?pwd=JrgUdOBK", "metadata": {"recall_bot": "standup"}},
        {"zoom_user_id": "yBtfWvb2AJAjbHzdAlv9Em", "platform": "attendee",
         "platform_secret": "<the Attendee project's webhook secret>"}]})

    zoom_user_id: str = Field(min_length=1, max_length=200,
                              description="The connection to mint for (a zoom_user_id of this account)")
    platform: Platform = Field(description="Whose bots call the link, and so the dialect it speaks: "
                                           "meetstream, recall, attendee or meetingbaas")
    meeting_link: str | None = Field(
        default=None, min_length=1, max_length=2048,
        description="Binds the link to one Zoom meeting: calls naming another meeting are refused, and "
                    "calls naming none mint for this one. Leave out for a link that serves any meeting.")
    token_types: list[TokenType] | None = Field(
        default=None, min_length=1, max_length=3,
        description="What the link may mint: onbehalf, zak, local_recording (a subset the platform "
                    "supports). Default per platform: meetstream onbehalf+zak, recall all three, attendee "
                    "onbehalf+local_recording, meetingbaas onbehalf.")
    expires_at: AwareDatetime | None = Field(default=None,
                                             description="After this the link answers 410; with an offset")
    max_uses: int | None = Field(default=None, ge=1, le=MAX_USES,
                                 description="Successful calls it allows; then it answers 410")
    metadata: Any = Field(default=None, json_schema_extra={"type": ["object", "null"]},
                          description=f"Your own JSON object (at most {METADATA_MAX_BYTES} bytes)")
    platform_secret: str | None = Field(
        default=None, min_length=1, max_length=200,
        description="attendee only, and required there: the Attendee project's webhook secret as "
                    "Attendee's dashboard shows it (base64). Calls must carry Attendee's signature made "
                    "with it. Write-only.")
    app_id: str | None = Field(
        default=None, min_length=1, max_length=40,
        description="The Zoom app the user authorized (its app_id), when you want that checked: a user of "
                    "another app is refused (400 zoom_app_mismatch). The link mints through the user's app.")


class TokenLinkRead(BaseModel):
    """A token link without its URLs (they hold its secret, shown once, at creation)."""

    model_config = ConfigDict(json_schema_extra={"examples": [LINK_EXAMPLE]})

    id: str
    zoom_user_id: str
    platform: Platform
    meeting_link: str | None
    meeting_number: str | None = Field(description="The digits of meeting_link, the meeting it is bound to")
    token_types: list[TokenType]
    expires_at: Timestamp | None
    max_uses: int | None
    uses: int = Field(description="Successful calls so far (a refused call uses nothing)")
    metadata: dict[str, Any]
    has_platform_secret: bool
    state: LinkState = Field(description="active, or why it answers 410: revoked, expired or used_up")
    created_at: Timestamp
    updated_at: Timestamp
    last_used_at: Timestamp | None = Field(description="The last successful call")
    revoked_at: Timestamp | None
    revoked_reason: RevokedReason | None = Field(
        description="revoked (DELETE) or connection_deleted (its connection was erased)")


class TokenLinkCreated(TokenLinkRead):
    """The created link, with its URLs: the only answer that ever holds them."""

    model_config = ConfigDict(json_schema_extra={"examples": [{**LINK_EXAMPLE, "urls": URLS_EXAMPLE}]})

    urls: dict[LinkKind, str] = Field(
        description="One URL per kind the link allows: obf, zak, join_token (meetstream, recall, "
                    "meetingbaas) or tokens (attendee). Give them to the platform now: they are never "
                    "shown again.")


class TokenLinkList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"token_links": [LINK_EXAMPLE],
                                                               "next_cursor": None}]})

    token_links: list[TokenLinkRead]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at the end.")


class TokenLinkRevoked(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"message": "Token link tl_5b8c0f2a9d1e4c7b3a6f0e21 revoked", "id": "tl_5b8c0f2a9d1e4c7b3a6f0e21"}]})

    message: str
    id: str


class TokenLinkUseRead(BaseModel):
    """One call to a link that passed authentication."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"at": "2026-12-07T10:05:00.120Z", "token_type": "onbehalf", "minted": ["onbehalf"],
         "meeting_number": "34363334431", "platform_bot_id": None, "status": "minted", "code": None}]})

    at: Timestamp
    token_type: TokenType | Literal["bundle"] = Field(
        description="What the call asked for; bundle for Attendee's one call for several tokens")
    minted: list[TokenType] = Field(description="What it got (an Attendee call may get several)")
    meeting_number: str | None
    platform_bot_id: str | None = Field(description="The platform's id of the calling bot, when it sent one")
    status: UseStatus = Field(description="minted or refused")
    code: str | None = Field(description="The error code answered, when refused")


class TokenLinkUseList(BaseModel):
    uses: list[TokenLinkUseRead]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at the end.")

