from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from obfbroker import idempotency
from obfbroker.bots import service
from obfbroker.bots.meetstream import bot_status as meetstream_status
from obfbroker.bots.models import Bot
from obfbroker.bots.schemas import BotCreateExample, BotEventRead, BotRead, BotStatusRead
from obfbroker.bots.validation import parse_bot_request
from obfbroker.deps import AccountDep, RuntimeDep, SessionDep
from obfbroker.errors import BadRequest
from obfbroker.schemas import ERROR_RESPONSES, IDEMPOTENCY_KEY_DESCRIPTION, ErrorRead

router = APIRouter(prefix="/api/v1/bots", tags=["bots"], responses=ERROR_RESPONSES)
NOT_FOUND = {404: {"model": ErrorRead, "description": "Bot <id> not found"}}


async def bot_read(session, bot: Bot) -> BotRead:
    return (await bot_reads(session, [bot]))[0]


async def bot_reads(session, bots: list[Bot]) -> list[BotRead]:
    """Bots as the API shows them; two queries for any number of bots (timelines, users)."""
    events = await service.timelines(session, bots)
    users = await service.connection_user_ids(session, bots)
    return [BotRead(
        **bot.settings, bot_id=bot.id, status=bot.status,
        bot_status=meetstream_status(bot.status, bot.reason),
        reason=bot.reason, deduplication_key=bot.deduplication_key,
        meeting_link=bot.meeting_link, bot_name=bot.bot_name, audio_required=bot.audio_required,
        video_required=bot.video_required, zoom=bot.zoom,
        zoom_oauth_connection_user_id=users[bot.id],
        acting_for_zoom_user_id=bot.acting_for_zoom_user_id, join_attempts=bot.join_attempts,
        tokens_minted=bot.tokens_minted, next_attempt_at=bot.next_attempt_at,
        callback_url=bot.callback_url, custom_attributes=bot.custom_attributes, join_at=bot.join_at,
        created_at=bot.created_at, updated_at=bot.updated_at,
        status_history=[BotEventRead(status=e.status, reason=e.reason, at=e.at,
                                     acting_for_zoom_user_id=e.acting_for_zoom_user_id)
                        for e in events[bot.id]],
    ) for bot in bots]


def _json_body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("The request body must be JSON", code="invalid_request") from None


# The body is documented from BotCreateExample but checked by parse_bot_request, so every rule
# answers with its own message instead of a generic validation error.
CREATE_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": BotCreateExample.model_json_schema(ref_template="#/components/schemas/{model}")}}}}


CREATE_ERRORS = {409: {"model": ErrorRead, "description": "duplicate_bot (with the unfinished bot's bot_id), "
                        "idempotency_key_reused or idempotency_request_in_progress"}}


@router.post("/create_bot", status_code=201, response_model=BotRead, openapi_extra=CREATE_BODY,
             responses=CREATE_ERRORS,
             summary="Create a bot, optionally acting for a connected Zoom user (hosted OBF)")
async def create_bot(request: Request, account: AccountDep, session: SessionDep, runtime: RuntimeDep,
                     idempotency_key: Annotated[str | None, Header(
                         alias=idempotency.HEADER, description=IDEMPOTENCY_KEY_DESCRIPTION)] = None,
                     ) -> BotRead | JSONResponse:
    raw = await request.body()

    async def create() -> BotRead:
        bot = await service.create(session, runtime, account, parse_bot_request(_json_body(raw)))
        return await bot_read(session, bot)

    return await idempotency.run_once(runtime, session, account_id=account.id, operation="create_bot",
                                      key=idempotency_key, request=raw, status=201, execute=create)


@router.get("/{bot_id}", response_model=BotRead, responses=NOT_FOUND, summary="Get a bot and its timeline")
async def get_bot(bot_id: str, account: AccountDep, session: SessionDep) -> BotRead:
    return await bot_read(session, await service.get(session, account, bot_id))


class BotList(BaseModel):
    bots: list[BotRead]
    next_cursor: str | None


@router.get("", response_model=BotList, summary="List bots, newest first")
async def list_bots(
    account: AccountDep, session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query()] = None,
    status: Annotated[str | None, Query(description="Only bots in this status")] = None,
    zoom_oauth_connection_user_id: Annotated[str | None, Query()] = None,
) -> BotList:
    rows, next_cursor = await service.list_page(session, account, limit=limit, cursor=cursor, status=status,
                                                zoom_user_id=zoom_oauth_connection_user_id)
    return BotList(bots=await bot_reads(session, rows), next_cursor=next_cursor)


@router.post("/{bot_id}/leave", status_code=202, response_model=BotRead, responses=NOT_FOUND,
             summary="Ask the bot to leave its meeting")
async def leave_bot(bot_id: str, account: AccountDep, session: SessionDep, runtime: RuntimeDep) -> BotRead:
    return await bot_read(session, await service.request_leave(session, runtime, account, bot_id))


@router.get("/{bot_id}/status", response_model=BotStatusRead, responses=NOT_FOUND,
            summary="The bot's current status (MeetStream-compatible path)")
async def bot_status(bot_id: str, account: AccountDep, session: SessionDep) -> BotStatusRead:
    bot = await service.get(session, account, bot_id)
    return BotStatusRead(bot_id=bot.id, status=bot.status,
                         bot_status=meetstream_status(bot.status, bot.reason), reason=bot.reason)


@router.get("/{bot_id}/detail", response_model=BotRead, responses=NOT_FOUND,
            summary="The bot with its status timeline (MeetStream-compatible path)")
async def bot_detail(bot_id: str, account: AccountDep, session: SessionDep) -> BotRead:
    return await bot_read(session, await service.get(session, account, bot_id))


@router.get("/{bot_id}/remove_bot", response_model=BotRead, responses=NOT_FOUND,
            summary="Ask the bot to leave (MeetStream-compatible path)")
async def remove_bot(bot_id: str, account: AccountDep, session: SessionDep, runtime: RuntimeDep) -> BotRead:
    return await bot_read(session, await service.request_leave(session, runtime, account, bot_id))
