"""Sign-in with an API key, sign-out, and the dashboard's static files."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse

from obfbroker.accounts import service as accounts
from obfbroker.dashboard.security import (
    COOKIE_PATH,
    LOGIN_COOKIE,
    LOGIN_COOKIE_SECONDS,
    SESSION_LIFETIME,
    cookie_secure,
    new_login_nonce,
)
from obfbroker.dashboard.web import (
    HERE,
    SIGNIN_PATH,
    CsrfRejected,
    DashboardRoute,
    PostedDep,
    clear_session_cookie,
    error_page,
    field,
    load_viewer,
    login_limiter,
    redirect,
    render,
    safe_next,
    set_session_cookie,
    signer_of,
)
from obfbroker.deps import SessionDep, clock_of, hasher_of, settings_of
from obfbroker.errors import Forbidden

router = APIRouter(route_class=DashboardRoute)

MAX_KEY_LENGTH = 512
STATIC_FILES = {"dashboard.css": "text/css", "dashboard.js": "text/javascript"}
NOTICES = {"signed_out": "You are signed out.",
           "key_revoked": "The API key this session used was revoked: sign in with another key."}


def _signin_page(request: Request, nonce: str, *, next_path: str, status_code: int = 200,
                 error: str | None = None, notice: str | None = None) -> Response:
    response = render(request, "signin.html", status_code=status_code, next_path=next_path,
                      login_csrf=signer_of(request).login_csrf_token(nonce), error=error, notice=notice)
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=LOGIN_COOKIE_SECONDS, path=COOKIE_PATH, httponly=True,
                        samesite="lax", secure=cookie_secure(settings_of(request).public_url))
    return response


def _login_nonce(request: Request) -> str:
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    return nonce if 16 <= len(nonce) <= 64 and nonce.replace("-", "").replace("_", "").isalnum() \
        else new_login_nonce()


@router.get("/signin")
async def signin_page(request: Request, session: SessionDep,
                      next: Annotated[str | None, Query()] = None,
                      notice: Annotated[str | None, Query()] = None) -> Response:
    if await load_viewer(request, session) is not None:
        return redirect(safe_next(next))
    return _signin_page(request, _login_nonce(request), next_path=safe_next(next),
                        notice=NOTICES.get(notice or ""))


@router.post("/signin")
async def sign_in(request: Request, session: SessionDep) -> Response:
    signer = signer_of(request)
    limiter = login_limiter(request)
    ip = request.client.host if request.client else "unknown"
    wait = limiter.retry_after(ip)
    if wait is not None:
        minutes = max(1, round(wait / 60))
        return error_page(request, 429, "Too many failed sign-in attempts",
                          f"Too many failed sign-ins from your address. Try again in about {minutes} "
                          f"minute{'s' if minutes > 1 else ''}.", headers={"Retry-After": str(wait)},
                          link=(SIGNIN_PATH, "Back to sign-in"))
    form = await request.form()
    nonce = request.cookies.get(LOGIN_COOKIE)
    token = form.get("csrf_token")
    if not nonce or not isinstance(token, str) or not hmac.compare_digest(
            token.encode(), signer.login_csrf_token(nonce).encode()):
        raise CsrfRejected
    next_path = safe_next(field(form, "next"))
    api_key = field(form, "api_key")
    if not api_key:
        return _signin_page(request, nonce, next_path=next_path, status_code=401,
                            error="Enter your API key (it starts with obf_live_).")
    try:
        if len(api_key) > MAX_KEY_LENGTH:
            raise Forbidden(accounts.REJECTED_KEY, code="invalid_api_key")
        key, account = await accounts.authenticate_key(session, hasher_of(request), api_key=api_key)
    except Forbidden:
        limiter.record_failure(ip)
        return _signin_page(request, nonce, next_path=next_path, status_code=403,
                            error="That API key was received but rejected: it is unknown or has been "
                                  "revoked. Check it and try again (keys start with obf_live_).")
    cookie, _ = signer.new_session(account_id=account.id, key_id=key.id, now=clock_of(request).now())
    response = redirect(next_path)
    set_session_cookie(response, request, cookie, int(SESSION_LIFETIME.total_seconds()))
    response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
    return response


@router.post("/signout")
async def sign_out(request: Request, _: PostedDep) -> Response:
    response = redirect(f"{SIGNIN_PATH}?notice=signed_out")
    clear_session_cookie(response, request)
    return response


@router.get("/static/{name}")
async def static_file(name: str) -> Response:
    if name not in STATIC_FILES:
        return Response(status_code=404)
    return FileResponse(HERE / "static" / name, media_type=STATIC_FILES[name],
                        headers={"Cache-Control": "public, max-age=300"})
