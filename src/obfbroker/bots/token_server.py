"""The hosted obf_url / zak_url: a bot fetches a fresh Zoom token right before it joins.

Bot-side contract (zoom-platform.md section 7): ``GET`` with ``meeting_number`` in the query and
headers ``X-Bot-Id`` and ``X-Webhook-Secret`` (the per-bot secret), or the ``POST`` fallback with
JSON ``{"bot_id", "meeting_number", "webhook_secret"}``; the answer is ``{"token": ...}`` with
``Cache-Control: no-store``. Every call mints a new token: OBF tokens are single-use.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import select

from obfbroker.bots import service
from obfbroker.bots.models import FINISHED, Bot, TokenSource
from obfbroker.bots.schemas import TokenRequest, TokenResponse
from obfbroker.connections.errors import disconnected
from obfbroker.connections.models import ZoomConnection
from obfbroker.deps import RuntimeDep
from obfbroker.errors import BadRequest, ObfError, Unauthorized
from obfbroker.runtime import Runtime
from obfbroker.schemas import ErrorRead

router = APIRouter(prefix="/token-server/zoom", tags=["hosted token server"])
ZOOM_USER_ID_DESCRIPTION = ("Which of the bot's authorizing users to mint for (one of its "
                            "zoom_oauth_connection_user_ids); the first one when left out")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
RESPONSES = {code: {"model": ErrorRead, "description": text} for code, text in {
    400: "meeting_number missing or malformed", 401: "Unknown bot or wrong secret",
    403: "The meeting is not this bot's, the bot does not use hosted auth, or zoom_user_id is not "
         "one of its authorizing users",
    409: "Zoom user <id> is disconnected (no valid refresh token)", 410: "The bot has finished",
    503: "Zoom unavailable (Retry-After set)"}.items()}


def _unauthorized() -> Unauthorized:
    # One answer for an unknown bot and a wrong secret: nothing to learn by probing.
    return Unauthorized("Unknown bot or wrong secret", code="invalid_bot_credentials",
                        headers=NO_STORE)


def _meeting_number(value: str | int | None) -> str:
    text = str(value).strip() if value is not None else ""
    if not text.isdigit():
        raise BadRequest("meeting_number is required: the digits of the meeting the bot joins",
                         code="invalid_meeting_number", headers=NO_STORE)
    return text


async def _candidate(session, bot: Bot, zoom_user_id: str) -> str:
    """The connection id of ``zoom_user_id`` if it is one of the bot's authorizing users."""
    connection_id = (await session.execute(select(ZoomConnection.id).where(
        ZoomConnection.account_id == bot.account_id, ZoomConnection.zoom_user_id == zoom_user_id)
    )).scalar_one_or_none()
    if connection_id is None or connection_id not in bot.candidate_connection_ids:
        raise ObfError(f"Zoom user {zoom_user_id} is not one of this bot's authorizing users",
                       code="not_a_candidate", status_code=403, headers=NO_STORE)
    return connection_id


async def issue_token(runtime: Runtime, *, token_type: Literal["onbehalf", "zak"], bot_id: str | None,
                      secret: str | None, meeting_number: str | int | None,
                      zoom_user_id: str | None = None) -> JSONResponse:
    if not bot_id or not secret or len(bot_id) > 64:
        raise _unauthorized()
    async with runtime.sessions() as session:
        bot = await session.get(Bot, bot_id)
        if bot is None or not service.secret_matches(runtime, bot_id, secret):
            raise _unauthorized()
        number = _meeting_number(meeting_number)
        if bot.meeting_number != number:
            raise ObfError("This meeting is not the bot's meeting", code="meeting_mismatch",
                           status_code=403, headers=NO_STORE)
        if bot.token_source != TokenSource.HOSTED:
            raise ObfError("This bot does not use hosted Zoom auth", code="not_hosted",
                           status_code=403, headers=NO_STORE)
        if bot.status in FINISHED:
            raise ObfError(f"Bot {bot.id} has finished ({bot.status})", code="bot_finished",
                           status_code=410, headers=NO_STORE)
        if bot.connection_id is None:  # its connection row is gone
            raise disconnected(bot.zoom.get("zoom_oauth_connection_user_id", ""))
        # The broker reads the connection itself: one read less on the hot path.
        connection_id = bot.connection_id
        if zoom_user_id:
            connection_id = await _candidate(session, bot, zoom_user_id)
    try:
        token = await runtime.tokens.mint(connection_id, token_type=token_type,
                                          meeting_id=number if token_type == "onbehalf" else None)
    except ObfError as err:
        err.headers = {**err.headers, **NO_STORE}
        raise
    return JSONResponse(TokenResponse(token=token).model_dump(), headers=NO_STORE)


def _routes(path: str, token_type: Literal["onbehalf", "zak"], what: str) -> None:
    @router.get(path, response_model=TokenResponse, responses=RESPONSES,
                summary=f"A fresh {what} token for a bot (bot-side contract)")
    async def fetch(runtime: RuntimeDep,
                    meeting_number: Annotated[str | None, Query()] = None,
                    zoom_user_id: Annotated[str | None, Query(
                        max_length=200, description=ZOOM_USER_ID_DESCRIPTION)] = None,
                    x_bot_id: Annotated[str | None, Header()] = None,
                    x_webhook_secret: Annotated[str | None, Header()] = None) -> JSONResponse:
        return await issue_token(runtime, token_type=token_type, bot_id=x_bot_id,
                                 secret=x_webhook_secret, meeting_number=meeting_number,
                                 zoom_user_id=zoom_user_id)

    @router.post(path, response_model=TokenResponse, responses=RESPONSES,
                 summary=f"A fresh {what} token for a bot (POST fallback)")
    async def fetch_post(runtime: RuntimeDep, body: dict | None = None,
                         x_bot_id: Annotated[str | None, Header()] = None,
                         x_webhook_secret: Annotated[str | None, Header()] = None) -> JSONResponse:
        try:
            request = TokenRequest.model_validate(body or {})
        except ValidationError:
            # Fall back to the headers a bot may send with the POST as well.
            request = None
        return await issue_token(
            runtime, token_type=token_type,
            bot_id=request.bot_id if request else x_bot_id,
            secret=request.webhook_secret if request else x_webhook_secret,
            meeting_number=request.meeting_number if request else (body or {}).get("meeting_number"),
            zoom_user_id=request.zoom_user_id if request else None)


_routes("/obf", "onbehalf", "OBF")
_routes("/zak", "zak", "ZAK")
