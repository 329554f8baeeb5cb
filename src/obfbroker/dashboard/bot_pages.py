"""Bots: the recent ones with their status, and one bot's status timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from obfbroker.bots import service as bots
from obfbroker.bots.endpoints import bot_read
from obfbroker.bots.models import Bot, BotStatus
from obfbroker.dashboard.web import DashboardRoute, ViewerDep, render
from obfbroker.deps import SessionDep

router = APIRouter(route_class=DashboardRoute)

PAGE_SIZE = 25
STATUSES = [status.value for status in BotStatus]


@dataclass(frozen=True)
class BotSummary:
    """A table row: what the API's bot object shows, without the per-bot timeline query."""

    bot_id: str
    bot_name: str
    status: str
    reason: str | None
    meeting_link: str
    acting_for: str | None
    created_at: datetime
    updated_at: datetime


def bot_summary(bot: Bot) -> BotSummary:
    return BotSummary(bot_id=bot.id, bot_name=bot.bot_name, status=bot.status, reason=bot.reason,
                      meeting_link=bot.meeting_link, acting_for=bot.zoom.get("zoom_oauth_connection_user_id"),
                      created_at=bot.created_at, updated_at=bot.updated_at)


@router.get("/bots")
async def bots_page(request: Request, viewer: ViewerDep, session: SessionDep,
                    status: Annotated[str | None, Query()] = None,
                    cursor: Annotated[str | None, Query(max_length=400)] = None) -> Response:
    rows, next_cursor = await bots.list_page(session, viewer.account, limit=PAGE_SIZE, cursor=cursor,
                                             status=status or None, zoom_user_id=None)
    return render(request, "bots.html", viewer, bots=[bot_summary(b) for b in rows], next_cursor=next_cursor,
                  status=status or "", statuses=STATUSES, cursor=cursor)


@router.get("/bots/{bot_id}")
async def bot_page(request: Request, viewer: ViewerDep, session: SessionDep, bot_id: str) -> Response:
    bot = await bots.get(session, viewer.account, bot_id)
    return render(request, "bot.html", viewer, bot=await bot_read(session, bot))
