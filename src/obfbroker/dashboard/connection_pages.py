"""Connections: the table, one connection's page, Connect Zoom (through the API's own
authorize-url and connection-create services), a reconnect link (the API's reconnect-url
service), the connection's token links and their create form (the token-links service), and
Disconnect, which erases, with a confirmation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.bots import service as bots
from obfbroker.connections import reconnect
from obfbroker.connections import service as connections
from obfbroker.connections.endpoints import connection_detail
from obfbroker.connections.models import ConnectionState
from obfbroker.connections.wiring import ConnectionKitDep
from obfbroker.dashboard.bot_pages import bot_summary
from obfbroker.dashboard.repository import search_connections
from obfbroker.dashboard.token_link_pages import LinkForm, form_context, links_context
from obfbroker.dashboard.web import (
    DashboardRoute,
    PostedDep,
    Viewer,
    ViewerDep,
    error_page,
    field,
    redirect,
    render,
    signer_of,
    undo,
)
from obfbroker.dashboard.zoom_app_pages import callback_url
from obfbroker.deps import SessionDep, settings_of
from obfbroker.errors import NotFound, ObfError
from obfbroker.flows.erase import ErasureDep
from obfbroker.token_links import service as token_links
from obfbroker.token_links.wiring import token_links_of
from obfbroker.zoom_apps import service as zoom_apps

router = APIRouter(route_class=DashboardRoute)

PAGE_SIZE = 25
STATES = [state.value for state in ConnectionState]
# Notices a redirect names by key: their words are ours, never text from the query string.
NOTICES = {"connection_deleted": "Disconnected and deleted the Zoom user: the grant was revoked at Zoom "
                                 "(when it was still valid) and the connection erased (its tokens, email, "
                                 "name and metadata). Its bots keep their history."}
# What Zoom may put in ``error`` on the redirect, in words (anything else is shown as "other").
ZOOM_DENIALS = {"access_denied": "The Zoom user chose Deny on Zoom's consent page, so nothing was connected."}


async def _list_page(request: Request, viewer: Viewer, session: AsyncSession, *, q: str | None,
                     state: str | None, cursor: str | None, notice: str | None = None) -> Response:
    window = settings_of(request).dashboard_search_window
    found = await search_connections(session, viewer.account, text=q, state=state, limit=PAGE_SIZE,
                                     cursor=cursor, window=window)
    has_app = await zoom_apps.find(session, viewer.account) is not None
    return render(request, "connections.html", viewer, connections=[connection_detail(r) for r in found.rows],
                  next_cursor=found.next_cursor, window_ended=found.window_ended, scan_window=window,
                  q=q or "", state=state or "", states=STATES, cursor=cursor, has_app=has_app, notice=notice)


@router.get("/connections")
async def connections_page(request: Request, viewer: ViewerDep, session: SessionDep,
                           q: Annotated[str | None, Query(max_length=200)] = None,
                           state: Annotated[str | None, Query()] = None,
                           cursor: Annotated[str | None, Query(max_length=400)] = None,
                           notice: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    return await _list_page(request, viewer, session, q=q, state=state or None, cursor=cursor,
                            notice=NOTICES.get(notice or ""))


async def _connection_page(request: Request, viewer: Viewer, session: AsyncSession, zoom_user_id: str, *,
                           status_code: int = 200, links_cursor: str | None = None,
                           token_link_form: dict[str, Any] | None = None, **reconnect_form: Any) -> Response:
    """One connection's page; ``reconnect_form`` fills the reconnect-link panel after a post,
    ``token_link_form`` the token-link form (with the new link's URLs, once, after it is made)."""
    connection = await connections.get(session, viewer.account, zoom_user_id)
    recent, _ = await bots.list_page(session, viewer.account, limit=10, cursor=None, status=None,
                                     zoom_user_id=zoom_user_id)
    form = {"link": None, "link_comes_here": False, "reconnect_error": None,
            "redirect_uri": callback_url(request), **reconnect_form}
    links = await links_context(request, session, viewer.account, connection.zoom_user_id,
                                cursor=links_cursor)
    return render(request, "connection.html", viewer, status_code=status_code,
                  c=connection_detail(connection), next_keepalive_at=connection.next_keepalive_at,
                  bots=[bot_summary(b) for b in recent], **form, **links,
                  **(token_link_form or form_context()))


@router.get("/connections/{zoom_user_id}")
async def connection_page(request: Request, viewer: ViewerDep, session: SessionDep, zoom_user_id: str,
                          links_cursor: Annotated[str | None, Query(max_length=400)] = None) -> Response:
    return await _connection_page(request, viewer, session, zoom_user_id, links_cursor=links_cursor)


@router.post("/connections/{zoom_user_id}/token-links")
async def create_token_link(request: Request, posted: PostedDep, session: SessionDep,
                            zoom_user_id: str) -> Response:
    """A token link for this user through the API's token-links service. Its URLs are rendered
    in this answer, not redirected to: they exist nowhere else."""
    viewer = posted.viewer
    await connections.get(session, viewer.account, zoom_user_id)  # another account's user: 404
    typed = LinkForm.read(posted.form)
    try:
        body = typed.request(zoom_user_id, field(posted.form, "platform_secret"))
        created = await token_links.create(session, token_links_of(request), viewer.account, body)
    except ObfError as err:
        if isinstance(err, NotFound):
            raise
        await undo(session, viewer)
        return await _connection_page(request, viewer, session, zoom_user_id, status_code=err.status_code,
                                      token_link_form=form_context(typed.refused(err)))
    return await _connection_page(request, viewer, session, zoom_user_id, status_code=201,
                                  token_link_form=form_context(created=created))


@router.post("/connections/{zoom_user_id}/reconnect-link")
async def reconnect_link(request: Request, posted: PostedDep, session: SessionDep, kit: ConnectionKitDep,
                         zoom_user_id: str) -> Response:
    """An authorize URL for this user through the API's reconnect-url service. Sent to the
    dashboard's own callback, it carries this session's state, which that callback requires."""
    viewer = posted.viewer
    redirect_uri = field(posted.form, "redirect_uri")
    comes_here = redirect_uri == callback_url(request)
    state = signer_of(request).oauth_state(viewer.claims, now=kit.clock.now()) if comes_here else None
    try:
        link = await reconnect.create_link(session, kit, viewer.account, zoom_user_id,
                                           redirect_uri=redirect_uri, state=state)
    except ObfError as err:
        if isinstance(err, NotFound):
            raise
        await undo(session, viewer)
        return await _connection_page(request, viewer, session, zoom_user_id, status_code=err.status_code,
                                      reconnect_error=err.detail, redirect_uri=redirect_uri)
    return await _connection_page(request, viewer, session, zoom_user_id, link=link,
                                  link_comes_here=comes_here, redirect_uri=redirect_uri)


@router.get("/connections/{zoom_user_id}/disconnect")
async def confirm_disconnect(request: Request, viewer: ViewerDep, session: SessionDep,
                             zoom_user_id: str) -> Response:
    connection = await connections.get(session, viewer.account, zoom_user_id)
    return render(request, "disconnect.html", viewer, c=connection_detail(connection))


@router.post("/connections/{zoom_user_id}/disconnect")
async def disconnect(posted: PostedDep, session: SessionDep, erasure: ErasureDep,
                     zoom_user_id: str) -> Response:
    await erasure.erase(session, posted.viewer.account, zoom_user_id)
    return redirect("/dashboard/connections?notice=connection_deleted")


@router.post("/zoom/connect")
async def connect_zoom(request: Request, posted: PostedDep, session: SessionDep,
                       kit: ConnectionKitDep) -> Response:
    """Send the browser to Zoom's consent page, with a state only this session can complete."""
    viewer = posted.viewer
    state = signer_of(request).oauth_state(viewer.claims, now=kit.clock.now())
    try:
        url = await connections.authorize_url(session, kit, viewer.account,
                                              redirect_uri=callback_url(request), state=state)
    except ObfError as err:
        if err.code != "zoom_app_not_configured":
            raise
        return error_page(request, 400, "Set up your Zoom app first",
                          "Connect Zoom needs your Zoom app's credentials. Add them on the Zoom "
                          "app page, then try again.", viewer=viewer,
                          link=("/dashboard/zoom-app", "Go to the Zoom app page"))
    return redirect(url)


@router.get("/zoom/callback")
async def zoom_callback(request: Request, viewer: ViewerDep, session: SessionDep, kit: ConnectionKitDep,
                        code: Annotated[str | None, Query()] = None,
                        state: Annotated[str | None, Query()] = None,
                        error: Annotated[str | None, Query()] = None) -> Response:
    """Where Zoom sends the browser back: check state, then the API's connection-create."""
    again = ("/dashboard/connections", "Back to connections")
    if not signer_of(request).state_matches(state, viewer.claims, now=kit.clock.now()):
        return error_page(request, 400, "This Zoom sign-in can't be completed here",
                          "The link back from Zoom doesn't belong to this dashboard session, or it is "
                          "more than 10 minutes old. Nothing was connected; start again with Connect Zoom.",
                          viewer=viewer, link=again)
    if error is not None:
        message = ZOOM_DENIALS.get(error, "Zoom did not authorize the app, so nothing was connected.")
        return error_page(request, 400, "Zoom did not connect", message, viewer=viewer, link=again)
    try:
        connection = await connections.connect(session, kit, viewer.account, code=code,
                                               redirect_uri=callback_url(request), metadata=None,
                                               metadata_given=False, state=state)
    except ObfError as err:
        await undo(session, viewer)
        return error_page(request, err.status_code, "Zoom did not connect", err.detail, viewer=viewer,
                          link=again, headers=err.headers)
    who = connection.display_name or connection.email or connection.zoom_user_id
    return await _list_page(request, viewer, session, q=None, state=None, cursor=None,
                            notice=f"Connected {who} ({connection.email}).")
