"""The URLs a platform's bot calls: ``/token-links/{link_id}/{kind}?key=<secret>``.

Each answers in its platform's dialect (docs/platforms.md): the raw token as ``text/plain``
(MeetStream, Recall.ai, Meeting BaaS) or Attendee's JSON object. Every answer, errors included,
carries ``Cache-Control: no-store`` (request_guard.py); ``HEAD`` is 405 and mints nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from obfbroker.lean_routes import LeanRoute, lean
from obfbroker.openapi import error_responses
from obfbroker.token_links import calls
from obfbroker.token_links.models import LinkKind, Platform, TokenType
from obfbroker.token_links.service import URL_PREFIX
from obfbroker.token_links.wiring import TokenLinks, TokenLinksDep

router = APIRouter(prefix=URL_PREFIX, tags=["token links (called by bots)"], route_class=LeanRoute)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
LINK_CODES = ("invalid_request", "invalid_link_credentials", "invalid_signature",
              "token_link_url_not_found", "method_not_allowed", "invalid_meeting_number",
              "meeting_number_required", "meeting_mismatch", "token_link_revoked", "token_link_expired",
              "token_link_used_up", "token_link_rate_limited", "zoom_user_disconnected", "missing_scopes",
              "zoom_app_not_configured", "not_meeting_host", "zoom_app_credentials_invalid", "zoom_error",
              "zoom_unavailable")
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "A fresh token: text/plain (meetstream, recall, meetingbaas) or Attendee's JSON",
          "content": {"text/plain": {"schema": {"type": "string"}, "example": "simobf_Xy2..."},
                      "application/json": {"schema": {"type": "object", "properties": {
                          "onbehalf_token": {"type": ["string", "null"]},
                          "app_privilege_token": {"type": ["string", "null"]},
                          "zak_token": {"type": ["string", "null"]},
                          "join_token": {"type": "null"}}},
                          "example": {"onbehalf_token": "simobf_Xy2...",
                                      "app_privilege_token": "simjoin_Ab9...", "zak_token": None,
                                      "join_token": None}}}},
    **error_responses(*LINK_CODES, auth=False,
                      status={"missing_scopes": 409, "zoom_app_not_configured": 409})}
LINK_ID = Path(description="The link's id (tl_...), as in its URLs",
               json_schema_extra={"pattern": r"^[^/]+$"})
PARAMETERS = [
    {"name": "key", "in": "query", "required": True, "schema": {"type": "string"},
     "description": "The link's secret, as its URLs carry it"},
    {"name": "meeting_number", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]+$"},
     "description": "meetstream: the meeting (MeetStream appends it)"},
    {"name": "meeting_id", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]+$"},
     "description": "recall, meetingbaas: the meeting, if you added it to the URL"},
    {"name": "bot_id", "in": "query", "schema": {"type": "string"},
     "description": "meetingbaas: the calling bot (recorded with the use)"},
    {"name": "extra", "in": "query", "schema": {"type": "string"},
     "description": "meetingbaas: the bot's extra object as JSON; its meeting_number names the meeting"},
    {"name": "X-Bot-Id", "in": "header", "schema": {"type": "string"},
     "description": "meetstream: the calling bot (recorded with the use)"},
    {"name": "X-Webhook-Signature", "in": "header", "schema": {"type": "string"},
     "description": "attendee: Attendee's signature of the body"},
]
CHECKS = ("The URL's key authenticates the call (an unknown link and a wrong key get the same 401); then "
          "the link must have this URL, Attendee's signature must match, the link must be active (410) and "
          "under its rate (429), the meeting must be the bound one (403) or named where the token needs one "
          "(400), and the connection connected (409). Every call that passes authentication is recorded as a "
          "use. Answers carry Cache-Control: no-store; HEAD is 405.")

POST_DESCRIPTION = (
    "Attendee's signed call at the tokens URL (answers Attendee's JSON: onbehalf_token, "
    "app_privilege_token when the link's user hosts the meeting, zak_token when the link allows zak, "
    f"join_token null), or MeetStream's POST fallback with {{bot_id, meeting_number}} (answers "
    f"text/plain). {CHECKS}")


def _answer(minted: calls.Minted) -> PlainTextResponse | JSONResponse:
    if minted.platform == Platform.ATTENDEE:
        tokens = minted.tokens
        return JSONResponse({"onbehalf_token": tokens.get(TokenType.ONBEHALF),
                             "app_privilege_token": tokens.get(TokenType.LOCAL_RECORDING),
                             "zak_token": tokens.get(TokenType.ZAK), "join_token": None}, headers=NO_STORE)
    (token,) = minted.tokens.values()
    return PlainTextResponse(token, headers=NO_STORE)


async def _call(links: TokenLinks, request: Request, link_id: str, kind: LinkKind, method: str) -> Any:
    body = await request.body() if method == "POST" else None
    minted = await calls.call(links, link_id=link_id, kind=kind, key=request.query_params.get("key"),
                              request=calls.Request(method, request.query_params, request.headers, body))
    return _answer(minted)


async def _lean_call_get(request: Request) -> Any:
    """A GET call read directly (lean_routes.py); a kind that is none of the URLs' goes to
    FastAPI, which refuses it as it always has."""
    try:
        kind = LinkKind(request.path_params["kind"])
    except ValueError:
        return None
    return await _call(request.app.state.runtime.token_links, request, request.path_params["link_id"], kind,
                       "GET")


@router.get("/{link_id}/{kind}", responses=RESPONSES, response_class=PlainTextResponse,
            openapi_extra={"parameters": PARAMETERS},
            summary="A fresh token for a platform's bot (GET: MeetStream, Recall.ai, Meeting BaaS)",
            description=f"Mints the token this URL names (obf, zak, join_token) for the link's Zoom user and "
                        f"answers it as text/plain. {CHECKS}")
@lean(_lean_call_get)
async def call_get(links: TokenLinksDep, request: Request, link_id: Annotated[str, LINK_ID],
                   kind: LinkKind) -> Any:
    return await _call(links, request, link_id, kind, "GET")


@router.post("/{link_id}/{kind}", responses=RESPONSES, response_class=PlainTextResponse,
             openapi_extra={"parameters": PARAMETERS, "requestBody": {"content": {"application/json": {
                 "schema": {"type": "object"}, "examples": {
                     "attendee": {"value": {"bot_id": "bot_3hfP0PXEsFVLPi6J", "bot_metadata": None,
                                            "callback_type": "zoom_tokens",
                                            "meeting_url": "https://zoom.us/j/34363334431?pwd=JrgUdOBK"}},
                     "meetstream": {"value": {"bot_id": "ms_bot_1", "meeting_number": "34363334431"}}}}}}},
             summary="A fresh token for a platform's bot (POST: Attendee, MeetStream's fallback)",
             description=POST_DESCRIPTION)
async def call_post(links: TokenLinksDep, request: Request, link_id: Annotated[str, LINK_ID],
                    kind: LinkKind) -> Any:
    return await _call(links, request, link_id, kind, "POST")
