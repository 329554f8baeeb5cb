from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse

from obfbroker import idempotency
from obfbroker.connections import health, reconnect, service
from obfbroker.connections.filters import parse_filter
from obfbroker.connections.models import ZoomConnection
from obfbroker.connections.schemas import (
    AuthorizeUrl,
    ConnectionCreate,
        ConnectionDetail,
    ConnectionList,
    ConnectionPatch,
    ConnectionRead,
    LastError,
    ReconnectUrl,
    ReconnectUrlCreate,
)
from obfbroker.connections.wiring import ConnectionKitDep
from obfbroker.deps import AccountDep, ClockDep, IdempotencyDep, SessionDep
from obfbroker.openapi import REQUIRED_BY_CODE, URL_WITHOUT_FRAGMENT, error_responses, url_schema
from obfbroker.schemas import IDEMPOTENCY_KEY_DESCRIPTION, IDEMPOTENCY_KEY_SCHEMA

router = APIRouter(prefix="/api/v1/zoom/oauth", tags=["zoom oauth connections"])
APP_ID_DESCRIPTION = ("Which of your Zoom apps (its app_id, GET /api/v1/zoom/oauth/apps); your default app "
                      "when left out")
NO_TOKENS = "No answer contains access or refresh token material: only identity, metadata, state and times."
CONNECT_ERRORS = error_responses(
    "invalid_idempotency_key", "invalid_request", "invalid_code", "invalid_redirect_uri", "invalid_metadata",
    "invalid_state", "zoom_app_not_configured", "redirect_uri_mismatch", "zoom_code_rejected",
    "zoom_app_credentials_invalid", "missing_scopes", "zoom_user_not_active", "code_exchange_in_progress",
    "reconnected_other_user", "idempotency_key_reused", "idempotency_request_in_progress", "zoom_error",
    "zoom_unavailable", "zoom_app_not_found",
    status={"zoom_app_not_configured": 400, "zoom_app_credentials_invalid": 400})
LIST_ERRORS = error_responses("invalid_request", "invalid_cursor", "invalid_state_filter",
                              "invalid_email_filter", "invalid_zoom_account_id_filter",
                              "invalid_metadata_filter", "invalid_timestamp")
RECONNECT_ERRORS = error_responses("invalid_request", "invalid_redirect_uri", "invalid_state",
                                   "zoom_app_not_configured", "zoom_user_not_connected",
                                   status={"zoom_app_not_configured": 400})
USER_ID = Path(description="The connection's zoom_user_id, as connection-create returned it",
               examples=["yBtfWvb2AJAjbHzdAlv9Em"], json_schema_extra={"pattern": r"^[^/]+$"})


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


@router.get("/authorize-url", response_model=AuthorizeUrl,
            responses=error_responses("invalid_redirect_uri", "invalid_state", "zoom_app_not_configured",
                                      "zoom_app_not_found",
                                      status={"zoom_app_not_configured": 400}),
            summary="Zoom authorize URL for one end-user",
            description="Builds the Zoom authorize URL to send one end-user's browser to, from your stored "
                        "Zoom app's client_id, your redirect_uri and your state, each percent-encoded. Zoom "
                        "is not called and nothing is stored.")
async def authorize_url(
    account: AccountDep, session: SessionDep, kit: ConnectionKitDep,
    redirect_uri: Annotated[str | None, Query(
        description="Your OAuth callback URL: https (http only for localhost, 127.0.0.1, [::1]), a host, no "
                    "fragment, no user information, at most 2048 characters",
        examples=["https://yourapp.example.com/zoom/oauth/callback"],
        json_schema_extra=url_schema(URL_WITHOUT_FRAGMENT, **{REQUIRED_BY_CODE: True}))] = None,
    state: Annotated[str | None, Query(description="Round-tripped to your callback; at most 2048 characters",
                                       examples=["alice-internal-uuid"],
                                       json_schema_extra={"maxLength": 2048})] = None,
    app_id: Annotated[str | None, Query(description=APP_ID_DESCRIPTION, max_length=40)] = None,
) -> AuthorizeUrl:
    url = await service.authorize_url(session, kit, account, redirect_uri=redirect_uri, state=state,
                                      app_id=app_id)
    return AuthorizeUrl(authorize_url=url)


@router.post("/connections", response_model=ConnectionRead, responses=CONNECT_ERRORS,
             summary="Create or update a connection from an authorization code",
             description="Completes the OAuth flow for one end-user: exchanges the code at Zoom, checks the "
                         "granted scopes, identifies the Zoom user and creates their connection, or updates "
                         "it when they authorized before (same zoom_user_id and created_at). A repeat with "
                         "the same code and redirect_uri within 10 minutes answers the first call's "
                         f"connection without calling Zoom. After an error nothing is stored. {NO_TOKENS}")
async def create_connection(body: ConnectionCreate, request: Request, account: AccountDep,
                            session: SessionDep, kit: ConnectionKitDep, keys: IdempotencyDep,
                            idempotency_key: Annotated[str | None, Header(
                                alias=idempotency.HEADER, description=IDEMPOTENCY_KEY_DESCRIPTION,
                                json_schema_extra=IDEMPOTENCY_KEY_SCHEMA)] = None,
                            ) -> ConnectionRead | JSONResponse:
    async def connect() -> ConnectionRead:
        connection = await service.connect(
            session, kit, account, code=body.code, redirect_uri=body.redirect_uri,
            metadata=body.metadata, metadata_given=body.metadata is not None, state=body.state,
            allow_other_user=body.allow_other_user, app_id=body.app_id,
        )
        return connection_read(connection)

    return await idempotency.run_once(keys, session, account_id=account.id,
                                      operation="create_connection", key=idempotency_key,
                                      request=await request.body(), status=200, execute=connect)


@router.get("/connections", response_model=ConnectionList, responses=LIST_ERRORS,
            summary="List connections, newest first",
            description="One page of your account's connections, newest first, each with its health. Filters "
                        "are AND-ed; repeat them with the cursor. `metadata.<key>=<value>` (up to 5) matches "
                        "a top-level scalar of the metadata: strings as they are, "
                        f"numbers as JSON text, booleans true/false. {NO_TOKENS}")
async def list_connections(
    request: Request, account: AccountDep, session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size")] = 100,
    cursor: Annotated[str | None, Query(description="The next_cursor of the previous page (opaque)")] = None,
    state: Annotated[str | None, Query(description="connected or disconnected", examples=["connected"],
                                       json_schema_extra={"enum": ["connected", "disconnected"]})] = None,
    email: Annotated[str | None, Query(description="Case-insensitive start of the email", examples=["alice"],
                                       json_schema_extra={"minLength": 1, "maxLength": 320})] = None,
    zoom_account_id: Annotated[str | None, Query(description="Exactly this Zoom account",
                                                 json_schema_extra={"minLength": 1,
                                                                    "maxLength": 200})] = None,
    created_after: Annotated[str | None, Query(description="RFC 3339, with an offset",
                                               examples=["2026-12-01T15:00:00Z"],
                                               json_schema_extra={"format": "date-time"})] = None,
    created_before: Annotated[str | None, Query(description="RFC 3339, with an offset",
                                                json_schema_extra={"format": "date-time"})] = None,
) -> ConnectionList:
    where = parse_filter(request.query_params.multi_items(), state=state, email=email,
                         zoom_account_id=zoom_account_id, created_after=created_after,
                         created_before=created_before)
    rows, next_cursor = await service.list_page(session, account, limit=limit, cursor=cursor, where=where)
    return ConnectionList(connections=[connection_detail(row) for row in rows], next_cursor=next_cursor)


@router.patch("/connections/{zoom_user_id}", response_model=ConnectionDetail,
              responses=error_responses("invalid_request", "invalid_metadata", "zoom_user_not_connected"),
              summary="Replace a connection's metadata (nothing else can change)",
              description="Replaces the metadata of a connection, connected or disconnected, as a whole; its "
                          "identity, state and tokens are untouched and Zoom is not called. Answers the "
                          f"connection as GET does. {NO_TOKENS}")
async def patch_connection(zoom_user_id: Annotated[str, USER_ID], body: ConnectionPatch, account: AccountDep,
                           session: SessionDep, clock: ClockDep) -> ConnectionDetail:
    connection = await service.update_metadata(session, account, zoom_user_id, body.metadata, now=clock.now())
    return connection_detail(connection)


@router.post("/connections/{zoom_user_id}/reconnect-url", response_model=ReconnectUrl,
             responses=RECONNECT_ERRORS, summary="An authorize URL that reconnects this end-user",
             description="A Zoom authorize URL meant for this connection's end-user; its state is remembered "
                         "for one hour so connection-create can check the same Zoom user came back (else 409 "
                         "reconnected_other_user). Zoom is not called.")
async def reconnect_url(zoom_user_id: Annotated[str, USER_ID], body: ReconnectUrlCreate, account: AccountDep,
                        session: SessionDep, kit: ConnectionKitDep) -> ReconnectUrl:
    link = await reconnect.create_link(session, kit, account, zoom_user_id,
                                       redirect_uri=body.redirect_uri, state=body.state)
    return ReconnectUrl(authorize_url=link.authorize_url, state=link.state, expires_at=link.expires_at)


@router.get("/connections/{zoom_user_id}", response_model=ConnectionDetail,
            responses=error_responses("zoom_user_not_connected"),
            summary="Get one connection with its health (no token material)",
            description="One connection, connected or disconnected, with the guide's fields and its health "
                        f"(last refresh, disconnection reason, last error, reconnect hint). {NO_TOKENS}")
async def get_connection(zoom_user_id: Annotated[str, USER_ID], account: AccountDep,
                         session: SessionDep) -> ConnectionDetail:
    return connection_detail(await service.get(session, account, zoom_user_id))
