from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from obfbroker import idempotency
from obfbroker.bots import service
from obfbroker.bots.meetstream import bot_status as meetstream_status
from obfbroker.bots.models import Bot, BotStatus
from obfbroker.bots.schemas import BOT_EXAMPLE, BotEventRead, BotRead, BotStatusRead
from obfbroker.bots.validation import parse_bot_request, request_schema
from obfbroker.bots.wiring import BotKitDep
from obfbroker.deps import AccountDep, IdempotencyDep, OutboundDep, SessionDep
from obfbroker.errors import BadRequest
from obfbroker.openapi import CREATE_BOT_CODES, error_responses
from obfbroker.schemas import IDEMPOTENCY_KEY_DESCRIPTION, IDEMPOTENCY_KEY_SCHEMA

router = APIRouter(prefix="/api/v1/bots", tags=["bots"])
NOT_FOUND = error_responses("bot_not_found")
BOT_ID = Path(description="The bot_id create_bot returned", examples=["bot_83bc7655d894727b1ec83b45"],
              json_schema_extra={"pattern": r"^[^/]+$"})
NO_SECRETS = "A bot never shows its secret nor its hosted token URLs (obf_url / zak_url)."


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


# The body is BotCreate (bots/validation.py): its schema here, and parse_bot_request checks the raw
# body with it (the raw bytes are kept for Idempotency-Key), each rule answering its own message.
CREATE_BODY = {"requestBody": {"required": True,
                               "content": {"application/json": {"schema": request_schema()}}}}


CREATE_ERRORS = error_responses(*CREATE_BOT_CODES, status={
    "zoom_app_not_configured": 400, "zoom_user_not_connected": 400, "zoom_user_disconnected": 400})


@router.post("/create_bot", status_code=201, response_model=BotRead, openapi_extra=CREATE_BODY,
             responses=CREATE_ERRORS,
             summary="Create a bot, optionally acting for a connected Zoom user (hosted OBF)",
             description="Creates a bot and queues it to join meeting_link. With zoom.use_zoom_obf=true it "
                         "acts for the connected Zoom user zoom.zoom_oauth_connection_user_id and fetches "
                         "its OBF token from the hosted token server; with zoom.obf_url or zoom.zak_url from "
                         "yours. The body is checked rule by rule, and the first problem is answered with "
                         "its own code (the guide's messages); a refused bot is not stored. Other MeetStream "
                         f"fields are type-checked and echoed. {NO_SECRETS}")
async def create_bot(request: Request, account: AccountDep, session: SessionDep, kit: BotKitDep,
                     outbound: OutboundDep, keys: IdempotencyDep,
                     idempotency_key: Annotated[str | None, Header(
                         alias=idempotency.HEADER, description=IDEMPOTENCY_KEY_DESCRIPTION,
                         json_schema_extra=IDEMPOTENCY_KEY_SCHEMA)] = None,
                     ) -> BotRead | JSONResponse:
    raw = await request.body()

    async def create() -> BotRead:
        parsed = parse_bot_request(_json_body(raw), outbound=outbound, now=kit.clock.now())
        bot = await service.create(session, kit, account, parsed)
        return await bot_read(session, bot)

    return await idempotency.run_once(keys, session, account_id=account.id,
                                      operation="create_bot", key=idempotency_key, request=raw, status=201,
                                      execute=create)


@router.get("/create_bot", include_in_schema=False)
async def create_bot_is_a_post() -> None:
    """A GET here (a person opening the URL `make run` prints in a curl command) is the wrong
    method on create_bot, not a lookup of a bot named "create_bot"."""
    raise StarletteHTTPException(405, "Method Not Allowed")


@router.get("/{bot_id}", response_model=BotRead, responses=NOT_FOUND, summary="Get a bot and its timeline",
            description=f"One bot with its current status, MeetStream bot_status and status timeline. "
                        f"{NO_SECRETS}")
async def get_bot(bot_id: Annotated[str, BOT_ID], account: AccountDep, session: SessionDep) -> BotRead:
    return await bot_read(session, await service.get(session, account, bot_id))


class BotList(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"bots": [BOT_EXAMPLE], "next_cursor": None}]}}

    bots: list[BotRead]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at the end.")


@router.get("", response_model=BotList,
            responses=error_responses("invalid_request", "invalid_status_filter", "invalid_cursor"),
            summary="List bots, newest first",
            description=f"One page of your account's bots, newest first, each with its timeline. "
                        f"{NO_SECRETS}")
async def list_bots(
    account: AccountDep, session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size")] = 50,
    cursor: Annotated[str | None, Query(description="The next_cursor of the previous page (opaque)")] = None,
    status: Annotated[str | None, Query(description="Only bots in this status", examples=["ended"],
                                        json_schema_extra={"enum": [s.value for s in BotStatus]})] = None,
    zoom_oauth_connection_user_id: Annotated[str | None, Query(
        description="Only the hosted-OBF bots acting for this connected Zoom user")] = None,
) -> BotList:
    rows, next_cursor = await service.list_page(session, account, limit=limit, cursor=cursor, status=status,
                                                zoom_user_id=zoom_oauth_connection_user_id)
    return BotList(bots=await bot_reads(session, rows), next_cursor=next_cursor)


@router.post("/{bot_id}/leave", status_code=202, response_model=BotRead, responses=NOT_FOUND,
             summary="Ask the bot to leave its meeting",
             description="A queued bot no worker holds ends at once (ended, left_by_request); a running bot "
                         "gets a leave request its worker acts on, and its hosted token URLs refuse it at "
                         "once (410 bot_leave_requested); a finished bot is answered unchanged. "
                         f"Answers the bot as it is right after the request. {NO_SECRETS}")
async def leave_bot(bot_id: Annotated[str, BOT_ID], account: AccountDep, session: SessionDep,
                    kit: BotKitDep) -> BotRead:
    return await bot_read(session, await service.request_leave(session, account, bot_id, now=kit.clock.now(),
                                                               metrics=kit.metrics))


@router.get("/{bot_id}/status", response_model=BotStatusRead, responses=NOT_FOUND,
            summary="The bot's current status (MeetStream-compatible path)",
            description="Only the bot's status, its MeetStream bot_status and the reason: what a MeetStream "
                        "polling loop reads until bot_status is terminal.")
async def bot_status(bot_id: Annotated[str, BOT_ID], account: AccountDep,
                     session: SessionDep) -> BotStatusRead:
    bot = await service.get(session, account, bot_id)
    return BotStatusRead(bot_id=bot.id, status=bot.status,
                         bot_status=meetstream_status(bot.status, bot.reason), reason=bot.reason)


@router.get("/{bot_id}/detail", response_model=BotRead, responses=NOT_FOUND,
            summary="The bot with its status timeline (MeetStream-compatible path)",
            description=f"The same answer as GET /api/v1/bots/{{bot_id}}. {NO_SECRETS}")
async def bot_detail(bot_id: Annotated[str, BOT_ID], account: AccountDep, session: SessionDep) -> BotRead:
    return await bot_read(session, await service.get(session, account, bot_id))


@router.get("/{bot_id}/remove_bot", response_model=BotRead, responses=NOT_FOUND,
            summary="Ask the bot to leave (MeetStream-compatible path)",
            description="Exactly what POST /api/v1/bots/{bot_id}/leave does, through MeetStream's path and "
                        f"method; answers 200 (not 202). {NO_SECRETS}")
async def remove_bot(bot_id: Annotated[str, BOT_ID], account: AccountDep, session: SessionDep,
                     kit: BotKitDep) -> BotRead:
    return await bot_read(session, await service.request_leave(session, account, bot_id, now=kit.clock.now(),
                                                               metrics=kit.metrics))
