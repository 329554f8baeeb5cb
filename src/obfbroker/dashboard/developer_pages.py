"""Developers: API keys (shown once, revocable), the webhook endpoint and its deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from obfbroker.accounts import service as accounts
from obfbroker.accounts.models import ApiKey
from obfbroker.dashboard.web import (
    SIGNIN_PATH,
    DashboardRoute,
    PostedDep,
    Viewer,
    ViewerDep,
    clear_session_cookie,
    field,
    redirect,
    render,
    undo,
)
from obfbroker.deps import SessionDep, clock_of, hasher_of, outbound_of, vault_of
from obfbroker.errors import ObfError
from obfbroker.webhooks import service as webhooks
from obfbroker.webhooks.endpoints import delivery_read
from obfbroker.webhooks.schemas import WebhookEndpointRead

router = APIRouter(route_class=DashboardRoute)

PAGE = "/dashboard/developers"
DELIVERIES_SHOWN = 20
MAX_KEY_NAME = 200
NOTICES = {"key_revoked": "API key revoked: it no longer works for the API or the dashboard.",
           "webhook_removed": "Webhook endpoint removed. Pending events wait up to 24 hours for a new one.",
           "retried": "Queued again: the worker sends it within a few seconds."}


@dataclass(frozen=True)
class KeyRow:
    """What the page shows of a key: never its hash."""

    id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def key_row(key: ApiKey) -> KeyRow:
    return KeyRow(key.id, key.name, key.prefix, key.created_at, key.last_used_at, key.revoked_at)


async def _page(request: Request, viewer: Viewer, session: AsyncSession, *, status_code: int = 200,
                notice: str | None = None, new_key: str | None = None, new_secret: str | None = None,
                key_error: str | None = None, webhook_error: str | None = None,
                webhook_url: str | None = None) -> Response:
    keys = await accounts.list_api_keys(session, viewer.account)
    found = await webhooks.find(session, viewer.account)
    rows, _ = await webhooks.list_deliveries(session, viewer.account, limit=DELIVERIES_SHOWN, cursor=None)
    endpoint = WebhookEndpointRead(url=found.url, created_at=found.created_at,
                                   updated_at=found.updated_at) if found else None
    return render(request, "developers.html", viewer, status_code=status_code,
                  keys=[key_row(k) for k in keys], endpoint=endpoint,
                  deliveries=[delivery_read(d, m) for d, m in rows], notice=notice, new_key=new_key,
                  new_secret=new_secret, key_error=key_error, webhook_error=webhook_error,
                  webhook_url=webhook_url if webhook_url is not None else (endpoint.url if endpoint else ""),
                  current_key_id=viewer.claims.key_id)


@router.get("/developers")
async def developers_page(request: Request, viewer: ViewerDep, session: SessionDep,
                          notice: Annotated[str | None, Query()] = None) -> Response:
    return await _page(request, viewer, session, notice=NOTICES.get(notice or ""))


@router.post("/developers/keys")
async def create_key(request: Request, posted: PostedDep, session: SessionDep) -> Response:
    name = field(posted.form, "name") or "dashboard"
    if len(name) > MAX_KEY_NAME:
        return await _page(request, posted.viewer, session, status_code=400,
                           key_error=f"The name must be at most {MAX_KEY_NAME} characters.")
    key = await accounts.create_api_key(session, hasher_of(request), account=posted.viewer.account,
                                        name=name, now=clock_of(request).now())
    # Rendered, not redirected: the key exists only in this response.
    return await _page(request, posted.viewer, session, status_code=201, new_key=key)


@router.post("/developers/keys/{key_id}/revoke")
async def revoke_key(request: Request, posted: PostedDep, session: SessionDep, key_id: str) -> Response:
    try:
        await accounts.revoke_api_key(session, posted.viewer.account, key_id,
                                      now=clock_of(request).now())
    except ObfError as err:
        if err.status_code == 404:
            raise
        await undo(session, posted.viewer)
        return await _page(request, posted.viewer, session, status_code=err.status_code, key_error=err.detail)
    if key_id == posted.viewer.claims.key_id:  # this session was bound to it: it ends here
        response = redirect(f"{SIGNIN_PATH}?notice=key_revoked")
        clear_session_cookie(response, request)
        return response
    return redirect(f"{PAGE}?notice=key_revoked")


@router.post("/developers/webhook")
async def set_webhook(request: Request, posted: PostedDep, session: SessionDep) -> Response:
    url = field(posted.form, "url")
    try:
        if not url or len(url) > 2048:
            raise ObfError("url must be an https URL of at most 2048 characters", code="invalid_webhook_url")
        _, secret = await webhooks.put(session, posted.viewer.account, url=url, outbound=outbound_of(request),
                                       vault=vault_of(request), now=clock_of(request).now())
    except ObfError as err:
        await undo(session, posted.viewer)
        return await _page(request, posted.viewer, session, status_code=400, webhook_error=err.detail,
                           webhook_url=url)
    return await _page(request, posted.viewer, session, status_code=201, new_secret=secret)


@router.post("/developers/webhook/remove")
async def remove_webhook(posted: PostedDep, session: SessionDep) -> Response:
    await webhooks.delete(session, posted.viewer.account)
    return redirect(f"{PAGE}?notice=webhook_removed")


@router.post("/developers/webhook/messages/{message_id}/retry")
async def retry_message(request: Request, posted: PostedDep, session: SessionDep,
                        message_id: str) -> Response:
    await webhooks.retry(session, posted.viewer.account, message_id, now=clock_of(request).now())
    return redirect(f"{PAGE}?notice=retried")
