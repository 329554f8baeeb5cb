"""The Zoom app page: the account's Zoom OAuth app credentials (secrets are write-only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.connections.errors import REQUIRED_SCOPES
from obfbroker.dashboard.web import (
    DashboardRoute,
    PostedDep,
    Viewer,
    ViewerDep,
    field,
    redirect,
    render,
)
from obfbroker.deps import SessionDep, clock_of, settings_of, vault_of
from obfbroker.zoom_apps import service as zoom_apps
from obfbroker.zoom_apps.endpoints import app_read
from obfbroker.zoom_apps.schemas import ZoomAppWrite

router = APIRouter(route_class=DashboardRoute)

CALLBACK_PATH = "/dashboard/zoom/callback"
OPTIONAL_SCOPES = ("user:read:zak",)
FIELD_ERRORS = {
    "client_id": "Client ID: enter the app's Client ID (no spaces, at most 200 characters).",
    "client_secret": "Client secret: enter the app's Client secret (no spaces, at most 500 "
                     "characters). It is required each time you save.",
    "webhook_secret_token": "Webhook secret token: no spaces, at most 500 characters.",
}


def callback_url(request: Request) -> str:
    """The redirect URL the dashboard's Connect Zoom button uses (add it to the Zoom app)."""
    return settings_of(request).public_url + CALLBACK_PATH


async def _page(request: Request, viewer: Viewer, session: AsyncSession, *, status_code: int = 200,
                errors: list[str] | None = None, client_id: str | None = None,
                saved: bool = False) -> Response:
    public_url = settings_of(request).public_url
    apps = [app_read(public_url, app) for app in await zoom_apps.list_apps(session, viewer.account)]
    current = next((app for app in apps if app.is_default), None)
    return render(request, "zoom_app.html", viewer, status_code=status_code, app=current, apps=apps,
                  errors=errors or [], saved=saved, redirect_url=callback_url(request),
                  required_scopes=REQUIRED_SCOPES, optional_scopes=OPTIONAL_SCOPES,
                  client_id=client_id if client_id is not None else (current.client_id if current else ""))


@router.get("/zoom-app")
async def zoom_app_page(request: Request, viewer: ViewerDep, session: SessionDep,
                        saved: Annotated[bool, Query()] = False) -> Response:
    return await _page(request, viewer, session, saved=saved)


@router.post("/zoom-app")
async def save_zoom_app(request: Request, posted: PostedDep, session: SessionDep) -> Response:
    form, viewer = posted.form, posted.viewer
    values: dict[str, str | None] = {"client_id": field(form, "client_id"),
                                     "client_secret": field(form, "client_secret")}
    if field(form, "webhook_secret_token"):
        values["webhook_secret_token"] = field(form, "webhook_secret_token")
    elif form.get("remove_webhook_secret_token") == "yes":
        values["webhook_secret_token"] = None
    try:
        body = ZoomAppWrite(**values)  # the API's own rules for these fields
    except ValidationError as err:
        errors = sorted({FIELD_ERRORS.get(str(e["loc"][0]), "Invalid input") for e in err.errors()})
        return await _page(request, viewer, session, status_code=400, errors=errors,
                           client_id=values["client_id"])
    await zoom_apps.put(session, vault_of(request), viewer.account, client_id=body.client_id,
                        client_secret=body.client_secret, webhook_secret_token=body.webhook_secret_token,
                        webhook_secret_given="webhook_secret_token" in body.model_fields_set,
                        now=clock_of(request).now())
    return redirect("/dashboard/zoom-app?saved=true")
