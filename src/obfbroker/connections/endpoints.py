from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse

from obfbroker import idempotency
from obfbroker.connections import health, reconnect, service
from obfbroker.connections.filters import parse_filter
from obfbroker.connections.models import ZoomConnection
from obfbroker.connections.schemas import (
    AuthorizeUrl,
    ConnectionCreate,
    ConnectionDeleted,
    ConnectionDetail,
    ConnectionList,
    ConnectionPatch,
    ConnectionRead,
    LastError,
    ReconnectUrl,
    ReconnectUrlCreate,
)
from obfbroker.deps import AccountDep, RuntimeDep, SessionDep
from obfbroker.schemas import ERROR_RESPONSES, IDEMPOTENCY_KEY_DESCRIPTION, ErrorRead

router = APIRouter(prefix="/api/v1/zoom/oauth", tags=["zoom oauth connections"],
                   responses=ERROR_RESPONSES)
NOT_FOUND = {404: {"model": ErrorRead, "description": "Zoom user <id> is not connected for this account"}}
ZOOM_DOWN = {503: {"model": ErrorRead, "description": "Zoom unavailable (Retry-After set)"}}


ZOOM_IDLE_EXPIRY = timedelta(days=90)


def connection_detail(connection: ZoomConnection) -> ConnectionDetail:
    refreshed = connection.last_refreshed_at
    hint = refreshed + ZOOM_IDLE_EXPIRY if refreshed and connection.has_refresh_token else None
    error = health.last_error(connection)
    return ConnectionDetail(
        **connection_read(connection).model_dump(), last_refreshed_at=refreshed,
        refresh_token_expires_hint=hint, disconnected_reason=connection.disconnected_reason,
        disconnected_at=connection.disconnected_at,
        last_error=LastError(**error) if error is not None else None,
        reconnect_hint=health.reconnect_hint(connection))


def connection_read(connection: ZoomConnection) -> ConnectionRead:
    return ConnectionRead(
        zoom_user_id=connection.zoom_user_id, zoom_account_id=connection.zoom_account_id,
        email=connection.email, display_name=connection.display_name,
        metadata=connection.metadata_ or {}, state=connection.state,
        created_at=connection.created_at, updated_at=connection.updated_at,
        has_refresh_token=connection.has_refresh_token,
    )


@router.get("/authorize-url", response_model=AuthorizeUrl, summary="Zoom authorize URL for one end-user")
async def authorize_url(
    account: AccountDep, session: SessionDep, runtime: RuntimeDep,
    redirect_uri: Annotated[str | None, Query(description="Your OAuth callback URL")] = None,
    state: Annotated[str | None, Query(description="Round-tripped to your callback")] = None,
) -> AuthorizeUrl:
    url = await service.authorize_url(session, runtime, account, redirect_uri=redirect_uri, state=state)
    return AuthorizeUrl(authorize_url=url)


@router.post("/connections", response_model=ConnectionRead, responses=ZOOM_DOWN,
             summary="Create or update a connection from an authorization code")
async def create_connection(body: ConnectionCreate, request: Request, account: AccountDep,
                            session: SessionDep, runtime: RuntimeDep,
                            idempotency_key: Annotated[str | None, Header(
                                alias=idempotency.HEADER, description=IDEMPOTENCY_KEY_DESCRIPTION)] = None,
                            ) -> ConnectionRead | JSONResponse:
    async def connect() -> ConnectionRead:
        connection = await service.connect(
            session, runtime, account, code=body.code, redirect_uri=body.redirect_uri,
            metadata=body.metadata, metadata_given=body.metadata is not None, state=body.state,
            allow_other_user=body.allow_other_user,
        )
        return connection_read(connection)

    return await idempotency.run_once(runtime, session, account_id=account.id, operation="create_connection",
                                      key=idempotency_key, request=await request.body(), status=200,
                                      execute=connect)


@router.get("/connections", response_model=ConnectionList, summary="List connections, newest first",
            description="Filters are AND-ed; repeat them with the cursor. `metadata.<key>=<value>` "
                        "(up to 5) matches a top-level scalar of the metadata: strings as they are, "
                        "numbers as JSON text, booleans true/false.")
async def list_connections(
    request: Request, account: AccountDep, session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    cursor: Annotated[str | None, Query()] = None,
    state: Annotated[str | None, Query(description="connected or disconnected")] = None,
    email: Annotated[str | None, Query(description="Case-insensitive start of the email")] = None,
    zoom_account_id: Annotated[str | None, Query(description="Exactly this Zoom account")] = None,
    created_after: Annotated[str | None, Query(description="RFC 3339, with an offset")] = None,
    created_before: Annotated[str | None, Query(description="RFC 3339, with an offset")] = None,
) -> ConnectionList:
    where = parse_filter(request.query_params.multi_items(), state=state, email=email,
                         zoom_account_id=zoom_account_id, created_after=created_after,
                         created_before=created_before)
    rows, next_cursor = await service.list_page(session, account, limit=limit, cursor=cursor, where=where)
    return ConnectionList(connections=[connection_detail(row) for row in rows], next_cursor=next_cursor)


@router.patch("/connections/{zoom_user_id}", response_model=ConnectionDetail, responses=NOT_FOUND,
              summary="Replace a connection's metadata (nothing else can change)")
async def patch_connection(zoom_user_id: str, body: ConnectionPatch, account: AccountDep,
                           session: SessionDep, runtime: RuntimeDep) -> ConnectionDetail:
    connection = await service.update_metadata(session, runtime, account, zoom_user_id, body.metadata)
    return connection_detail(connection)


@router.post("/connections/{zoom_user_id}/reconnect-url", response_model=ReconnectUrl,
             responses=NOT_FOUND, summary="An authorize URL that reconnects this end-user")
async def reconnect_url(zoom_user_id: str, body: ReconnectUrlCreate, account: AccountDep,
                        session: SessionDep, runtime: RuntimeDep) -> ReconnectUrl:
    link = await reconnect.create_link(session, runtime, account, zoom_user_id,
                                       redirect_uri=body.redirect_uri, state=body.state)
    return ReconnectUrl(authorize_url=link.authorize_url, state=link.state, expires_at=link.expires_at)


@router.get("/connections/{zoom_user_id}", response_model=ConnectionDetail, responses=NOT_FOUND,
            summary="Get one connection with its health (no token material)")
async def get_connection(zoom_user_id: str, account: AccountDep, session: SessionDep) -> ConnectionDetail:
    return connection_detail(await service.get(session, account, zoom_user_id))


@router.delete("/connections/{zoom_user_id}", response_model=ConnectionDeleted, responses=NOT_FOUND,
               summary="Disconnect a Zoom user: revoke the grant at Zoom and erase the connection")
async def delete_connection(zoom_user_id: str, account: AccountDep, session: SessionDep,
                            runtime: RuntimeDep) -> ConnectionDeleted:
    """Revokes the grant at Zoom (best effort), then erases the connection: its tokens, email,
    display name and metadata, and the end-user's identity in the events about it. Bots keep
    their history. Afterwards GET answers 404 and the list no longer shows it."""
    await service.disconnect(session, runtime, account, zoom_user_id)
    return ConnectionDeleted(message=f"Zoom user {zoom_user_id} disconnected", zoom_user_id=zoom_user_id)
