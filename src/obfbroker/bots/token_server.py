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

from obfbroker.bots import service
from obfbroker.bots.schemas import TokenRequest, TokenResponse
from obfbroker.deps import RuntimeDep
from obfbroker.errors import ObfError
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


async def issue_token(runtime: Runtime, *, token_type: Literal["onbehalf", "zak"], bot_id: str | None,
                      secret: str | None, meeting_number: str | int | None,
                      zoom_user_id: str | None = None) -> JSONResponse:
    try:
        # A short read of its own, closed before minting (which takes the row lock).
        async with runtime.sessions() as session:
            target = await service.token_target(session, runtime, bot_id=bot_id, secret=secret,
                                                meeting_number=meeting_number, zoom_user_id=zoom_user_id)
        token = await runtime.tokens.mint(
            target.connection_id, token_type=token_type,
            meeting_id=target.meeting_number if token_type == "onbehalf" else None)
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
