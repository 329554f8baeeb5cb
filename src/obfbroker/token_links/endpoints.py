"""``/api/v1/zoom/token-links``: create, list, read and revoke token links, and read their calls."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse

from obfbroker import idempotency
from obfbroker.deps import AccountDep, IdempotencyDep, SessionDep
from obfbroker.openapi import error_responses
from obfbroker.schemas import IDEMPOTENCY_KEY_DESCRIPTION, IDEMPOTENCY_KEY_SCHEMA
from obfbroker.token_links import service
from obfbroker.token_links.models import Platform
from obfbroker.token_links.schemas import (
    TokenLinkCreate,
    TokenLinkCreated,
    TokenLinkList,
    TokenLinkRead,
    TokenLinkRevoked,
    TokenLinkUseList,
)
from obfbroker.token_links.wiring import TokenLinksDep

router = APIRouter(prefix="/api/v1/zoom/token-links", tags=["token links"])
NOT_FOUND = error_responses("token_link_not_found")
NO_SECRETS = ("No answer but the creation's holds the link's URLs or any secret: keep the URLs from the "
              "creation answer.")
CREATE_ERRORS = error_responses(
    "invalid_idempotency_key", "invalid_request", "invalid_token_types", "invalid_meeting_link",
    "meeting_number_required", "invalid_expires_at", "invalid_metadata", "platform_secret_required",
    "invalid_platform_secret", "zoom_user_not_connected", "zoom_user_disconnected", "idempotency_key_reused",
    "idempotency_request_in_progress", "zoom_app_not_found", "zoom_app_mismatch",
    status={"zoom_user_disconnected": 400})
CREATE_DESCRIPTION = (
    "A link mints Zoom tokens for one of your connected Zoom users, in the dialect of the platform whose "
    "bots call it (docs/platforms.md). The answer's urls (one per kind the link allows: obf, zak, "
    "join_token, or Attendee's tokens) carry a secret of 256 bits and are shown in this answer only; "
    "obfbroker keeps a keyed hash. An Idempotency-Key replays the same answer (its URLs included, stored "
    "sealed) for 24 hours.")
CURSOR = "The next_cursor of the previous page (opaque)"
LINK_ID = Path(description="The link's id (tl_...)", examples=["tl_5b8c0f2a9d1e4c7b3a6f0e21"],
               json_schema_extra={"pattern": r"^[^/]+$"})


@router.post("", status_code=201, response_model=TokenLinkCreated, responses=CREATE_ERRORS,
             summary="Create a token link: a bot platform's Zoom token URL for one connection",
             description=CREATE_DESCRIPTION)
async def create_link(body: TokenLinkCreate, request: Request, account: AccountDep, session: SessionDep,
                      links: TokenLinksDep, keys: IdempotencyDep,
                      idempotency_key: Annotated[str | None, Header(
                          alias=idempotency.HEADER, description=IDEMPOTENCY_KEY_DESCRIPTION,
                          json_schema_extra=IDEMPOTENCY_KEY_SCHEMA)] = None,
                      ) -> TokenLinkCreated | JSONResponse:
    async def create() -> TokenLinkCreated:
        return await service.create(session, links, account, body)

    return await idempotency.run_once(keys, session, account_id=account.id,
                                      operation="create_token_link", key=idempotency_key,
                                      request=await request.body(), status=201, execute=create)


@router.get("", response_model=TokenLinkList,
            responses=error_responses("invalid_request", "invalid_cursor"),
            summary="List token links, newest first",
            description=f"One page of your account's token links, revoked ones included. {NO_SECRETS}")
async def list_links(account: AccountDep, session: SessionDep, links: TokenLinksDep,
                     limit: Annotated[int, Query(ge=1, le=200, description="Page size")] = 100,
                     cursor: Annotated[str | None, Query(description=CURSOR)] = None,
                     zoom_user_id: Annotated[str | None, Query(
                         max_length=200, description="Only this Zoom user's links")] = None,
                     platform: Annotated[Platform | None, Query(
                         description="Only this platform's links")] = None,
                     ) -> TokenLinkList:
    rows, next_cursor = await service.list_page(session, links, account, zoom_user_id=zoom_user_id,
                                                 platform=platform, limit=limit, cursor=cursor)
    now = links.clock.now()
    return TokenLinkList(token_links=[service.link_read(link, now) for link in rows],
                         next_cursor=next_cursor)


@router.get("/{link_id}", response_model=TokenLinkRead, responses=NOT_FOUND, summary="Read a token link",
            description=f"The link, its state and its count of successful calls. {NO_SECRETS}")
async def get_link(link_id: Annotated[str, LINK_ID], account: AccountDep, session: SessionDep,
                   links: TokenLinksDep) -> TokenLinkRead:
    return service.link_read(await service.get(session, links, account, link_id), links.clock.now())


@router.delete("/{link_id}", response_model=TokenLinkRevoked, responses=NOT_FOUND,
               summary="Revoke a token link",
               description="Every call to the link answers 410 token_link_revoked from the moment this "
                           "answers, on every serve process. The link stays listed, with its calls. Revoking "
                           "again changes nothing.")
async def revoke_link(link_id: Annotated[str, LINK_ID], account: AccountDep, session: SessionDep,
                      links: TokenLinksDep) -> TokenLinkRevoked:
    link = await service.revoke(session, links, account, link_id)
    return TokenLinkRevoked(message=f"Token link {link.id} revoked", id=link.id)


@router.get("/{link_id}/uses", response_model=TokenLinkUseList,
            responses={**NOT_FOUND, **error_responses("invalid_request", "invalid_cursor")},
            summary="A token link's calls, newest first",
            description="Every call that passed the link's authentication, minted or refused, with the "
                        "meeting and the platform's bot id when the call named them, and the error code of a "
                        "refusal.")
async def list_uses(link_id: Annotated[str, LINK_ID], account: AccountDep, session: SessionDep,
                    links: TokenLinksDep,
                    limit: Annotated[int, Query(ge=1, le=200, description="Page size")] = 100,
                    cursor: Annotated[str | None, Query(description=CURSOR)] = None,
                    ) -> TokenLinkUseList:
    uses, next_cursor = await service.uses_page(session, links, account, link_id, limit=limit,
                                                cursor=cursor)
    return TokenLinkUseList(uses=[service.use_read(use) for use in uses], next_cursor=next_cursor)
