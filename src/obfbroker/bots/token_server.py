"""The hosted obf_url / zak_url: a bot fetches a fresh Zoom token right before it joins.

Bot-side contract (zoom-platform.md section 7): ``GET`` with ``meeting_number`` in the query and
headers ``X-Bot-Id`` and ``X-Webhook-Secret`` (the per-bot secret), or the ``POST`` fallback with
JSON ``{"bot_id", "meeting_number", "webhook_secret"}``; the answer is ``{"token": ...}`` with
``Cache-Control: no-store``. Every call mints a new token: OBF tokens are single-use.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from obfbroker.bots import service
from obfbroker.bots.schemas import TokenRequest, TokenResponse
from obfbroker.bots.wiring import BotKit, BotKitDep
from obfbroker.errors import ObfError
from obfbroker.lean_routes import LeanRoute, lean
from obfbroker.openapi import REQUIRED_BY_CODE, TOKEN_CODES, TOKEN_STATUSES, error_responses

router = APIRouter(prefix="/token-server/zoom", tags=["hosted token server"], route_class=LeanRoute)
ZOOM_USER_ID_MAX = 200
ZOOM_USER_ID_DESCRIPTION = ("Which of the bot's authorizing users to mint for (one of its "
                            "zoom_oauth_connection_user_ids); the first one when left out")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
RESPONSES: dict[int | str, dict] = {
    200: {"description": "A fresh token", "headers": {"Cache-Control": {
        "description": "Never cache a "
                       "token", "required": True, "schema": {"type": "string", "enum": ["no-store"]}}}},
    **error_responses("invalid_request", *TOKEN_CODES, status=TOKEN_STATUSES, auth=False)}
# The checks run in this order; the credentials first, so a stranger learns nothing else.
CHECKS = ("No API key: the bot authenticates with its bot_id and per-bot secret, checked first (401 "
          "invalid_bot_credentials for an unknown bot and a wrong secret alike), then meeting_number (400), "
          "the bot's own meeting and hosted auth (403), the bot not finished (410), then the connection and "
          "Zoom. Every call mints a new single-use token at Zoom (none is cached or handed out twice); "
          "answers carry Cache-Control: no-store. The token is the only secret in any answer; errors never "
          "contain one.")
BOT_ID_HEADER = {"description": "The bot's bot_id (from its launch spec)",
                 "examples": ["bot_83bc7655d894727b1ec83b45"], "json_schema_extra": {
    "minLength": 1, "maxLength": 64, REQUIRED_BY_CODE: True}}
SECRET_HEADER = {"description": "The bot's bot_secret (from its launch spec)", "json_schema_extra": {
    "minLength": 1, REQUIRED_BY_CODE: True}}
POST_BODY = {"description": "The credentials and meeting_number; without bot_id or webhook_secret the "
                            "X-Bot-Id and X-Webhook-Secret headers are used, with the body's meeting_number",
             "json_schema_extra": {"properties": {
                 "bot_id": {"type": "string"}, "meeting_number": {"type": ["string", "integer"]},
                 "webhook_secret": {"type": "string"}, "zoom_user_id": {"type": "string"}},
                 "examples": [{"bot_id": "bot_83bc7655d894727b1ec83b45", "meeting_number": "34363334431",
                               "webhook_secret": "<bot_secret>"}]}}


async def issue_token(kit: BotKit, *, token_type: Literal["onbehalf", "zak"], bot_id: str | None,
                      secret: str | None, meeting_number: str | int | None,
                      zoom_user_id: str | None = None) -> JSONResponse:
    try:
        # One short read (a connection, not a session), closed before minting (which may take
        # the row lock).
        async with kit.engine.connect() as conn:
            target = await service.token_target(conn, kit.hasher, bot_id=bot_id, secret=secret,
                                                meeting_number=meeting_number, zoom_user_id=zoom_user_id)
        token = await kit.tokens.mint(
            target.connection_id, token_type=token_type,
            meeting_id=target.meeting_number if token_type == "onbehalf" else None, known=target.known)
    except ObfError as err:
        err.headers = {**err.headers, **NO_STORE}
        raise
    return JSONResponse(TokenResponse(token=token).model_dump(), headers=NO_STORE)


def _lean_fetch(token_type: Literal["onbehalf", "zak"]):
    """The GET route's ordinary request, read directly (lean_routes.py); a zoom_user_id over its
    length goes to FastAPI, which refuses it as it always has."""
    async def fetch(request: Request) -> JSONResponse | None:
        query, headers = request.query_params, request.headers
        zoom_user_id = query.get("zoom_user_id")
        if zoom_user_id is not None and len(zoom_user_id) > ZOOM_USER_ID_MAX:
            return None
        return await issue_token(request.app.state.runtime.bots, token_type=token_type,
                                 bot_id=headers.get("x-bot-id"), secret=headers.get("x-webhook-secret"),
                                 meeting_number=query.get("meeting_number"), zoom_user_id=zoom_user_id)
    return fetch


def _routes(path: str, token_type: Literal["onbehalf", "zak"], what: str) -> None:
    @router.get(path, response_model=TokenResponse, responses=RESPONSES,
                summary=f"A fresh {what} token for a bot (bot-side contract)",
                description=f"Mints a fresh {what} token at Zoom for the Zoom user the hosted-OBF bot acts "
                            f"for{' bound to its meeting' if token_type == 'onbehalf' else ''}. {CHECKS}")
    @lean(_lean_fetch(token_type))
    async def fetch(kit: BotKitDep,
                    meeting_number: Annotated[str | None, Query(
                        description="The digits of the bot's meeting, as in its launch spec",
                        examples=["34363334431"],
                        json_schema_extra={"pattern": "^[0-9]+$", REQUIRED_BY_CODE: True})] = None,
                    zoom_user_id: Annotated[str | None, Query(
                        max_length=ZOOM_USER_ID_MAX, description=ZOOM_USER_ID_DESCRIPTION)] = None,
                    x_bot_id: Annotated[str | None, Header(**BOT_ID_HEADER)] = None,
                    x_webhook_secret: Annotated[str | None, Header(**SECRET_HEADER)] = None) -> JSONResponse:
        return await issue_token(kit, token_type=token_type, bot_id=x_bot_id,
                                 secret=x_webhook_secret, meeting_number=meeting_number,
                                 zoom_user_id=zoom_user_id)

    @router.post(path, response_model=TokenResponse, responses=RESPONSES,
                 summary=f"A fresh {what} token for a bot (POST fallback)",
                 description=f"The POST fallback of GET {router.prefix}{path} for bots whose token server "
                             f"answered 405: the same token, checks and answers, with the credentials in a "
                             f"JSON body (the query string is not read). {CHECKS}")
    async def fetch_post(kit: BotKitDep, body: Annotated[dict | None, Body(**POST_BODY)] = None,
                         x_bot_id: Annotated[str | None, Header(description="Used when the body has no "
                                                                            "bot_id")] = None,
                         x_webhook_secret: Annotated[str | None, Header(
                             description="Used when the body has no webhook_secret")] = None) -> JSONResponse:
        try:
            request = TokenRequest.model_validate(body or {})
        except ValidationError:
            # Fall back to the headers a bot may send with the POST as well.
            request = None
        return await issue_token(
            kit, token_type=token_type,
            bot_id=request.bot_id if request else x_bot_id,
            secret=request.webhook_secret if request else x_webhook_secret,
            meeting_number=request.meeting_number if request else (body or {}).get("meeting_number"),
            zoom_user_id=request.zoom_user_id if request else None)


_routes("/obf", "onbehalf", "OBF")
_routes("/zak", "zak", "ZAK")
