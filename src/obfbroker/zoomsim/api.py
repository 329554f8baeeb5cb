"""Zoom's REST API, the parts obfbroker uses: `/v2/users/me`, `/v2/users/me/token` and
`/v2/meetings/{meetingId}/jointoken/local_recording`."""

from __future__ import annotations

from fastapi import APIRouter, Request

from obfbroker.zoomsim.models import (
    DEFAULT_MINT_TTL,
    JOIN_TOKEN_TTL,
    LOCAL_RECORDING_SCOPE,
    MAX_MINT_TTL,
    ApiError,
    Grant,
    User,
)
from obfbroker.zoomsim.state import SimState

router = APIRouter(prefix="/v2")


def _sim(request: Request) -> SimState:
    return request.app.state.sim


def _bearer_grant(request: Request) -> tuple[Grant, User]:
    """The grant behind the bearer token; Zoom refuses tokens passed in the query string."""
    if "access_token" in request.query_params:
        raise ApiError(401, 124, "Invalid access token.")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        token = ""
    return _sim(request).grants.authenticate(token.strip())


def _authenticate(request: Request, path_user_id: str) -> tuple[Grant, User]:
    """The bearer token's grant, for a path naming a user."""
    grant, user = _bearer_grant(request)
    # A user-level app may only name its own user: "me" or the user's own id.
    if path_user_id not in ("me", user.id):
        raise ApiError(404, 1001, f"User does not exist: {path_user_id}.")
    return grant, user


def _require_scope(grant: Grant, *accepted: str) -> None:
    if not any(scope in grant.scopes for scope in accepted):
        raise ApiError(400, 4711, f"Invalid access token, does not contain scopes:[{accepted[0]}].")


@router.get("/users/{user_id}")
async def get_user(user_id: str, request: Request) -> dict:
    """The authorizing user's profile."""
    sim = _sim(request)
    grant, user = _authenticate(request, user_id)
    _require_scope(grant, "user:read:user")
    sim.count("users_me", user.id)
    return user.as_api(str(request.base_url).rstrip("/"))


@router.get("/users/{user_id}/token")
async def get_user_token(user_id: str, request: Request) -> dict:
    """Mint a single-use OBF (`type=onbehalf`) or ZAK (`type=zak`) token."""
    sim = _sim(request)
    sim.count("token_mint_requests")
    grant, _user = _authenticate(request, user_id)
    query = request.query_params
    kind = query.get("type")
    if kind == "onbehalf":
        _require_scope(grant, "user:read:token")
    elif kind == "zak":
        _require_scope(grant, "user:read:zak", "user:read:token")
    else:
        raise ApiError(400, 300, "Invalid parameter: type. Use onbehalf or zak.")
    meeting_number = query.get("meeting_id") or None
    if kind == "onbehalf" and not meeting_number:
        raise ApiError(400, 300, "The meeting_id parameter is required for type onbehalf.")
    if meeting_number is not None and not _is_digits(meeting_number):
        raise ApiError(400, 300, "Invalid parameter: meeting_id.")
    ttl = _parse_ttl(query.get("ttl"))
    token = sim.grants.mint(grant, kind=kind, meeting_number=meeting_number, ttl=ttl)
    return {"token": token}


@router.get("/meetings/{meeting_id}/jointoken/local_recording")
async def get_local_recording_join_token(meeting_id: str, request: Request) -> dict:
    """Mint a single-use local-recording join token for a meeting the grant's user hosts."""
    sim = _sim(request)
    sim.count("join_token_requests")
    grant, _user = _bearer_grant(request)
    _require_scope(grant, LOCAL_RECORDING_SCOPE)
    bypass = request.query_params.get("bypass_waiting_room")
    if bypass not in (None, "true", "false"):
        raise ApiError(400, 300, "Invalid parameter: bypass_waiting_room.")
    token = sim.mint_join_token(grant, meeting_id, bypass_waiting_room=bypass == "true")
    return {"token": token, "expire_in": JOIN_TOKEN_TTL}


def _parse_ttl(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_MINT_TTL
    if not _is_digits(raw) or not 0 < int(raw) <= MAX_MINT_TTL:
        raise ApiError(400, 300, f"Invalid parameter: ttl. Must be 1 to {MAX_MINT_TTL} seconds.")
    return int(raw)


def _is_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()
