"""The `/_sim/` control API: what tests and the demo use to play Zoom's part."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from obfbroker.zoomsim.bots import MAX_WAIT_SECONDS
from obfbroker.zoomsim.models import ControlError
from obfbroker.zoomsim.oauth import build_redirect
from obfbroker.zoomsim.state import SimState
from obfbroker.zoomsim.webhooks import WebhookSender, deauthorization_event

router = APIRouter(prefix="/_sim")

NonEmpty = Annotated[str, Field(min_length=1, max_length=2000)]
Rate = Annotated[float, Field(ge=0, le=1)]
ObfRefusal = Literal[
    "AUTHORIZED_USER_NOT_INMEETING", "MEETING_FAIL_UNKNOWN", "MEETING_FAIL_MEETING_OVER"
]


class AppCreate(BaseModel):
    """Body of `POST /_sim/apps`."""

    client_id: NonEmpty
    client_secret: NonEmpty
    redirect_uris: list[NonEmpty]
    scopes: list[NonEmpty]
    webhook_url: NonEmpty | None = None
    webhook_secret_token: NonEmpty | None = None


class AppUpdate(BaseModel):
    """Body of `PATCH /_sim/apps/{client_id}`: only the fields given change."""

    client_secret: NonEmpty | None = None
    redirect_uris: list[NonEmpty] | None = None
    scopes: list[NonEmpty] | None = None
    webhook_url: NonEmpty | None = None
    webhook_secret_token: NonEmpty | None = None


class UserCreate(BaseModel):
    """Body of `POST /_sim/users`."""

    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)]
    display_name: Annotated[str, Field(min_length=1, max_length=200)]
    account_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None
    status: Literal["active", "inactive", "pending"] = "active"
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None
    first_name: str | None = None
    last_name: str | None = None
    timezone: NonEmpty = "UTC"
    type: Literal[1, 2] = 2


class AuthorizeBody(BaseModel):
    """Body of `POST /_sim/authorize`: consent without a browser."""

    client_id: NonEmpty
    user_id: NonEmpty
    redirect_uri: NonEmpty
    state: str | None = None
    scopes: list[NonEmpty] | None = None
    code_challenge: NonEmpty | None = None
    code_challenge_method: Literal["S256", "plain"] | None = None


class DeauthorizeBody(BaseModel):
    """Body of `POST /_sim/users/{id}/deauthorize`."""

    client_id: NonEmpty
    user_data_retention: Literal["true", "false"] = "false"


class ClockBody(BaseModel):
    """Body of `POST /_sim/clock`."""

    advance_seconds: Annotated[float, Field(ge=0, le=100 * 365 * 86400)]


class FaultsBody(BaseModel):
    """Body of `POST /_sim/faults`: only the fields given change."""

    rate_5xx: Rate | None = None
    rate_429: Rate | None = None
    latency_ms: Annotated[int, Field(ge=0, le=60_000)] | None = None
    obf_refusal: ObfRefusal | None = None


class MeetingCreate(BaseModel):
    """Body of `POST /_sim/meetings`."""

    host_user_id: NonEmpty
    waiting_room: Annotated[bool, Field(strict=True)] = False  # JSON true/false only


class ParticipantBody(BaseModel):
    """Body of `POST /_sim/meetings/{n}/participants`."""

    user_id: NonEmpty


class BotJoinBody(BaseModel):
    """Body of `POST /_sim/meetings/{n}/bots`: what the Meeting SDK's join is given."""

    bot_name: Annotated[str, Field(min_length=1, max_length=200)]
    sdk_jwt: Annotated[str, Field(max_length=8192)]
    obf_token: Annotated[str, Field(max_length=4096)] | None = None
    zak_token: Annotated[str, Field(max_length=4096)] | None = None
    passcode: Annotated[str, Field(max_length=200)] | None = None
    join_token: Annotated[str, Field(max_length=4096)] | None = None


def _sim(request: Request) -> SimState:
    return request.app.state.sim


def _webhooks(request: Request) -> WebhookSender:
    return request.app.state.webhooks


def _no_webhook_reason(webhook_url: str | None, secret: str | None) -> str | None:
    if not webhook_url:
        return "app has no webhook_url"
    if not secret:
        return "app has no webhook_secret_token"
    return None


@router.get("/healthz")
async def health() -> dict:
    """Liveness probe for whoever starts the simulator."""
    return {"status": "ok"}


@router.post("/apps", status_code=201)
async def register_app(body: AppCreate, request: Request, response: Response) -> dict:
    """Register (or replace) an OAuth app."""
    app, created = _sim(request).register_app(**body.model_dump())
    if not created:
        response.status_code = 200
    return app.public()


@router.get("/apps")
async def list_apps(request: Request) -> dict:
    """Every registered app, secrets omitted."""
    return {"apps": [app.public() for app in _sim(request).list_apps()]}


@router.get("/apps/{client_id}")
async def get_app(client_id: str, request: Request) -> dict:
    """One app, secrets omitted."""
    return _sim(request).get_app(client_id).public()


@router.patch("/apps/{client_id}")
async def update_app(client_id: str, body: AppUpdate, request: Request) -> dict:
    """Change some of an app's settings, e.g. its webhook URL."""
    return _sim(request).update_app(client_id, **body.model_dump(exclude_unset=True)).public()


@router.post("/users", status_code=201)
async def create_user(body: UserCreate, request: Request) -> dict:
    """Create a Zoom user."""
    fields = body.model_dump()
    fields["user_id"] = fields.pop("id")
    fields["user_type"] = fields.pop("type")
    return _sim(request).create_user(**fields).public()


@router.get("/users")
async def list_users(request: Request) -> dict:
    """Every user."""
    return {"users": [user.public() for user in _sim(request).list_users()]}


@router.get("/users/{user_id}")
async def get_user(user_id: str, request: Request) -> dict:
    """One user."""
    return _sim(request).get_user(user_id).public()


@router.delete("/users/{user_id}")
async def delete_user(user_id: str, request: Request) -> dict:
    """The user is deleted at Zoom: grants die, unexpired access tokens answer 404 code 1001."""
    return {"user_id": user_id, "revoked_grants": _sim(request).delete_user(user_id)}


@router.get("/users/{user_id}/grants")
async def user_grants(user_id: str, request: Request) -> dict:
    """The user's grants of every app, live or dead (no token material)."""
    return {"user_id": user_id, "grants": _sim(request).grants.grants_of(user_id)}


@router.post("/users/{user_id}/expire-tokens")
async def expire_user_tokens(user_id: str, request: Request) -> dict:
    """Every access token of the user is expired from now on."""
    sim = _sim(request)
    sim.get_user(user_id)
    return {"user_id": user_id, "expired_access_tokens": sim.grants.expire_user_tokens(user_id)}


@router.post("/users/{user_id}/revoke")
async def revoke_user_grants(user_id: str, request: Request) -> dict:
    """The user's grants die silently, as when they change their password."""
    sim = _sim(request)
    sim.get_user(user_id)
    return {"user_id": user_id, "revoked_grants": sim.grants.revoke_user_grants(user_id)}


@router.post("/users/{user_id}/deauthorize")
async def deauthorize(user_id: str, body: DeauthorizeBody, request: Request) -> dict:
    """The user removes the app: its grants die, then Zoom's `app_deauthorized` is POSTed
    (signed, synchronously) to the app's webhook URL."""
    sim = _sim(request)
    user, app, revoked = sim.deauthorize(user_id, body.client_id)
    result: dict = {"user_id": user.id, "client_id": app.client_id, "revoked_grants": revoked}
    url, secret = app.webhook_url, app.webhook_secret_token
    reason = _no_webhook_reason(url, secret)
    if reason is not None:
        return {**result, "webhook": None, "webhook_error": reason}
    assert url is not None and secret is not None
    now = sim.now()
    event = deauthorization_event(now=now, account_id=user.account_id, user_id=user.id,
                                  client_id=app.client_id,
                                  user_data_retention=body.user_data_retention)
    delivery = await _webhooks(request).send_deauthorization(url, secret, event, now=now)
    return {**result, "webhook": delivery.summary()}


@router.post("/apps/{client_id}/validate-webhook")
async def validate_webhook(client_id: str, request: Request) -> dict:
    """Zoom's `endpoint.url_validation` challenge against the app's webhook URL."""
    sim = _sim(request)
    app = sim.get_app(client_id)
    url, secret = app.webhook_url, app.webhook_secret_token
    reason = _no_webhook_reason(url, secret)
    if reason is not None:
        return {"valid": False, "status_code": None, "reason": reason}
    assert url is not None and secret is not None
    return await _webhooks(request).validate_endpoint(url, secret, now=sim.now())


@router.post("/authorize")
async def authorize(body: AuthorizeBody, request: Request) -> dict:
    """Consent on behalf of a user; same checks as the browser flow."""
    code = _sim(request).grants.issue_code(
        client_id=body.client_id, user_id=body.user_id, redirect_uri=body.redirect_uri,
        scopes=body.scopes, code_challenge=body.code_challenge,
        code_challenge_method=body.code_challenge_method,
    )
    params = {"code": code}
    if body.state is not None:
        params["state"] = body.state
    return {"code": code, "redirect_to": build_redirect(body.redirect_uri, params)}


@router.post("/meetings", status_code=201)
async def create_meeting(body: MeetingCreate, request: Request) -> dict:
    """Start a meeting hosted by a known user (with a waiting room for bots if asked)."""
    sim = _sim(request)
    meeting = sim.create_meeting(body.host_user_id, waiting_room=body.waiting_room)
    view = sim.meeting_view(meeting)
    return {key: view[key] for key in ("meeting_number", "passcode", "join_url")}


@router.get("/meetings")
async def list_meetings(request: Request) -> dict:
    """Every meeting, with who (and which bots) are in it."""
    sim = _sim(request)
    return {"meetings": [sim.meeting_view(meeting) for meeting in sim.list_meetings()]}


@router.get("/meetings/{number}")
async def get_meeting(number: str, request: Request) -> dict:
    """Who (and which bots) are in a meeting."""
    sim = _sim(request)
    return sim.meeting_view(sim.get_meeting(number))


@router.get("/meetings/{number}/participants")
async def meeting_participants(number: str, request: Request) -> dict:
    """Who is in a meeting (POST here makes a user join)."""
    sim = _sim(request)
    view = sim.meeting_view(sim.get_meeting(number))
    return {"meeting_number": view["meeting_number"], "participants": view["participants"]}


@router.post("/meetings/{number}/participants")
async def join_meeting(number: str, body: ParticipantBody, request: Request) -> dict:
    """A user joins the meeting."""
    sim = _sim(request)
    return sim.meeting_view(sim.join_meeting(number, body.user_id))


@router.delete("/meetings/{number}/participants/{user_id}")
async def leave_meeting(number: str, user_id: str, request: Request) -> dict:
    """A user leaves the meeting."""
    sim = _sim(request)
    return sim.meeting_view(sim.leave_meeting(number, user_id))


@router.post("/meetings/{number}/end")
async def end_meeting(number: str, request: Request) -> dict:
    """The host ends the meeting: every participant and bot is out."""
    sim = _sim(request)
    return sim.meeting_view(sim.end_meeting(number))


@router.post("/meetings/{number}/bots", status_code=201)
async def join_bot(number: str, body: BotJoinBody, request: Request) -> dict:
    """A bot joins the meeting, under Zoom's OBF rules (refusals: `{"error","code","message"}`)."""
    if body.obf_token is not None and body.zak_token is not None:
        raise ControlError(400, "Give obf_token or zak_token, not both")
    bot = _sim(request).bots.join(number, **body.model_dump())
    return bot.view()


@router.get("/meetings/{number}/bots/{bot_id}")
async def get_bot(
    number: str,
    bot_id: str,
    request: Request,
    wait: Annotated[float | None, Query(ge=0, le=MAX_WAIT_SECONDS)] = None,
) -> dict:
    """A bot; with `wait`, answers once the bot's state changes (at once if it is out) or
    `wait` seconds passed."""
    bots = _sim(request).bots
    if not wait:
        return bots.view(number, bot_id)
    return await bots.wait_for_change(number, bot_id, wait)


@router.delete("/meetings/{number}/bots/{bot_id}")
async def leave_bot(number: str, bot_id: str, request: Request) -> dict:
    """The bot leaves the meeting."""
    return _sim(request).bots.leave(number, bot_id)


@router.post("/meetings/{number}/bots/{bot_id}/remove")
async def remove_bot(number: str, bot_id: str, request: Request) -> dict:
    """The host removes the bot (its end reason: `KickByHost`)."""
    return _sim(request).bots.remove(number, bot_id)


@router.post("/meetings/{number}/bots/{bot_id}/admit")
async def admit_bot(number: str, bot_id: str, request: Request) -> dict:
    """The host admits the bot from the waiting room (other states stay as they are)."""
    return _sim(request).bots.admit(number, bot_id)


@router.get("/faults")
async def get_faults(request: Request) -> dict:
    """Current fault injection settings."""
    return asdict(_sim(request).faults)


@router.post("/faults")
async def set_faults(body: FaultsBody, request: Request) -> dict:
    """Change fault injection; fields left out keep their value."""
    return asdict(_sim(request).set_faults(**body.model_dump()))


@router.get("/clock")
async def get_clock(request: Request) -> dict:
    """Simulated time."""
    sim = _sim(request)
    return {"now": sim.now_iso(), "offset_seconds": sim.clock_offset}


@router.post("/clock")
async def advance_clock(body: ClockBody, request: Request) -> dict:
    """Move simulated time forward."""
    sim = _sim(request)
    now = sim.advance_clock(body.advance_seconds)
    return {"now": now, "offset_seconds": sim.clock_offset}


@router.get("/stats")
async def stats(request: Request) -> dict:
    """Counters of what clients did."""
    return _sim(request).stats()


@router.post("/reset")
async def reset(request: Request) -> JSONResponse:
    """Forget everything and re-seed."""
    _sim(request).reset()
    return JSONResponse({"status": "reset"})
