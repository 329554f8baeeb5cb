"""Zoom's OAuth endpoints: consent page, token exchange and refresh, revoke."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from obfbroker.zoomsim.models import AuthorizeError, OAuthError
from obfbroker.zoomsim.state import SimState

router = APIRouter()
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Fields the consent form carries through unchanged from the authorize URL.
_CARRIED_FIELDS = ("client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method")


def build_redirect(redirect_uri: str, params: dict[str, str]) -> str:
    """Append query parameters to a redirect URI, keeping whatever query it already has."""
    if not params:
        return redirect_uri
    separator = "" if redirect_uri.endswith(("?", "&")) else ("&" if "?" in redirect_uri else "?")
    return redirect_uri + separator + urlencode(params, quote_via=quote, safe="")


def _sim(request: Request) -> SimState:
    return request.app.state.sim


def _error_page(request: Request, message: str, zoom_code: int | None = None) -> HTMLResponse:
    context = {"message": message, "zoom_code": zoom_code}
    return templates.TemplateResponse(request, "error.html", context, status_code=400)


def _client_credentials(request: Request) -> tuple[str | None, str | None]:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None, None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    client_id, sep, client_secret = decoded.partition(":")
    return (client_id, client_secret) if sep else (None, None)


async def _parameters(request: Request) -> dict[str, str]:
    """Query string and form body merged, the body winning, as Zoom accepts both."""
    params = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def _authenticated_client(request: Request) -> str:
    client_id, client_secret = _client_credentials(request)
    if _sim(request).check_client(client_id, client_secret) is None:
        raise OAuthError(401, "Invalid client_id or client_secret", "invalid_client")
    return client_id or ""


@router.get("/oauth/authorize", response_class=HTMLResponse)
async def show_consent(request: Request) -> Response:
    """The page where a user picks who they are and allows or denies the app."""
    sim = _sim(request)
    query = request.query_params
    try:
        app = sim.grants.validate_authorize(
            query.get("client_id"), query.get("redirect_uri"),
            query.get("code_challenge"), query.get("code_challenge_method"),
        )
    except AuthorizeError as exc:
        return _error_page(request, exc.message, exc.zoom_code)
    if query.get("response_type") != "code":
        return _error_page(request, "Unsupported response_type; only \"code\" is supported.")
    hidden = [(name, query[name]) for name in _CARRIED_FIELDS if name in query]
    context = {"app": app, "users": sim.active_users(), "hidden": hidden}
    return templates.TemplateResponse(request, "consent.html", context)


@router.post("/oauth/authorize")
async def submit_consent(request: Request) -> Response:
    """Allow or Deny on the consent page: redirect back to the app."""
    sim = _sim(request)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    client_id, redirect_uri = form.get("client_id"), form.get("redirect_uri")
    challenge, method = form.get("code_challenge"), form.get("code_challenge_method")
    try:
        sim.grants.validate_authorize(client_id, redirect_uri, challenge, method)
    except AuthorizeError as exc:
        return _error_page(request, exc.message, exc.zoom_code)
    state = {"state": form["state"]} if "state" in form else {}
    decision = form.get("decision")
    if decision == "deny":
        location = build_redirect(redirect_uri or "", {"error": "access_denied", **state})
        return RedirectResponse(location, status_code=302)
    if decision != "allow":
        return _error_page(request, "Choose Allow or Deny.")
    user_id = form.get("user_id", "")
    if user_id not in {user.id for user in sim.active_users()}:
        return _error_page(request, "Choose an active user to sign in as.")
    code = sim.grants.issue_code(
        client_id=client_id or "", user_id=user_id, redirect_uri=redirect_uri or "",
        code_challenge=challenge, code_challenge_method=method,
    )
    return RedirectResponse(build_redirect(redirect_uri or "", {"code": code, **state}), 302)


@router.post("/oauth/token")
async def issue_token(request: Request) -> Response:
    """Authorization-code exchange and refresh-token rotation."""
    sim = _sim(request)
    sim.count("token_requests")
    params = await _parameters(request)
    client_id = _authenticated_client(request)
    grant_type = params.get("grant_type")
    if grant_type == "authorization_code":
        tokens = sim.grants.exchange_code(
            client_id=client_id, code=params.get("code"),
            redirect_uri=params.get("redirect_uri"), code_verifier=params.get("code_verifier"),
        )
    elif grant_type == "refresh_token":
        tokens = sim.grants.refresh(client_id=client_id, refresh_token=params.get("refresh_token"))
    else:
        raise OAuthError(400, "unsupported grant type", "unsupported_grant_type")
    api_url = str(request.base_url).rstrip("/")
    return JSONResponse(tokens.as_response(api_url), headers=_NO_STORE)


@router.post("/oauth/revoke")
async def revoke_token(request: Request) -> Response:
    """Revoke the grant an access or refresh token belongs to."""
    sim = _sim(request)
    sim.count("revoke_requests")
    params = await _parameters(request)
    client_id = _authenticated_client(request)
    sim.grants.revoke(client_id=client_id, token=params.get("token"))
    return JSONResponse({"status": "success"}, headers=_NO_STORE)
