"""The dashboard's router: every page under /dashboard, and a 404 page for anything else."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from obfbroker.dashboard import (
    auth_pages,
    bot_pages,
    connection_pages,
    developer_pages,
    token_link_pages,
    zoom_app_pages,
)
from obfbroker.dashboard.web import HOME_PATH, DashboardRoute, error_page, load_viewer, redirect
from obfbroker.deps import SessionDep

router = APIRouter(prefix="/dashboard", include_in_schema=False)


@router.get("")
@router.get("/")
async def home() -> Response:
    return redirect(HOME_PATH)


PAGES = (auth_pages, zoom_app_pages, connection_pages, token_link_pages, bot_pages, developer_pages)
for pages in PAGES:
    router.include_router(pages.router)

fallback = APIRouter(route_class=DashboardRoute)


@fallback.api_route("/{path:path}", methods=["GET", "POST"])
async def not_found(request: Request, session: SessionDep, path: str) -> Response:
    return error_page(request, 404, "Not found", "There is no such page in the dashboard.",
                      viewer=await load_viewer(request, session), link=(HOME_PATH, "Go to connections"))


router.include_router(fallback)
