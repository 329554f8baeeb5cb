"""What every dashboard page shares: templates, the signed-in viewer, CSRF-checked forms,
HTML error pages and security headers.

A page works in the request's session (``SessionDep``: one transaction, committed before the
response is sent, so a redirect or a cookie never goes out ahead of the change it follows). A
page that shows a failed change as a page instead of failing calls ``undo`` first."""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import jinja2
from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from obfbroker.accounts import service as accounts
from obfbroker.accounts.models import Account
from obfbroker.dashboard.security import (
    COOKIE_PATH,
    SESSION_COOKIE,
    LoginLimiter,
    SessionClaims,
    Signer,
    cookie_secure,
)
from obfbroker.deps import SessionDep, clock_of, hasher_of, sessions_of, settings_of
from obfbroker.errors import ObfError

HERE = Path(__file__).parent
SIGNIN_PATH = "/dashboard/signin"
HOME_PATH = "/dashboard/connections"


def _timestamp(value: datetime | None) -> str:
    # A line may break between the date and the time, never inside either.
    return value.strftime("%Y-%m-%d %H:%M\u00a0UTC") if value else "—"


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
    undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
environment.filters["ts"] = _timestamp
environment.filters["pretty_json"] = _json


class SignInRequired(Exception):
    """No valid session: send the browser to the sign-in page."""


class CsrfRejected(Exception):
    """A form post without a valid CSRF token (or without a session): 403, nothing changes."""


@dataclass
class Viewer:
    """The signed-in account, the key its session is bound to, and its CSRF token."""

    account: Account
    claims: SessionClaims
    csrf_token: str


def signer_of(request: Request) -> Signer:
    hasher = hasher_of(request)
    signer = getattr(request.app.state, "dashboard_signer", None)
    if signer is None or signer[0] is not hasher:
        signer = (hasher, Signer(hasher))
        request.app.state.dashboard_signer = signer
    return signer[1]


def login_limiter(request: Request) -> LoginLimiter:
    limiter = getattr(request.app.state, "dashboard_login_limiter", None)
    if limiter is None:
        limiter = request.app.state.dashboard_login_limiter = LoginLimiter()
    return limiter


async def load_viewer(request: Request, session: AsyncSession) -> Viewer | None:
    """The session's viewer, or None. The key it was opened with must still be active."""
    signer = signer_of(request)
    claims = signer.read_session(request.cookies.get(SESSION_COOKIE), now=clock_of(request).now())
    if claims is None:
        return None
    account = await accounts.account_for_active_key(session, key_id=claims.key_id,
                                                    account_id=claims.account_id)
    if account is None:
        return None
    return Viewer(account, claims, signer.csrf_token(claims))


async def _viewer_after_failure(request: Request) -> Viewer | None:
    """For the error page of a failed request, whose own transaction was rolled back."""
    async with sessions_of(request)() as session:
        return await load_viewer(request, session)


async def undo(session: AsyncSession, viewer: Viewer) -> None:
    """Roll back what a failed change may have written, keeping the viewer usable for the page
    that says what went wrong (the rest of the request runs in a new transaction)."""
    await session.rollback()
    await session.refresh(viewer.account)


async def current_viewer(request: Request, session: SessionDep) -> Viewer:
    viewer = await load_viewer(request, session)
    if viewer is None:
        raise SignInRequired
    return viewer


ViewerDep = Annotated[Viewer, Depends(current_viewer)]


@dataclass
class Posted:
    viewer: Viewer
    form: FormData


async def checked_post(request: Request, session: SessionDep) -> Posted:
    """A form post from a signed-in session, carrying that session's CSRF token; else 403."""
    viewer = await load_viewer(request, session)
    form = await request.form()
    token = form.get("csrf_token")
    if viewer is None or not isinstance(token, str) or not hmac.compare_digest(
            token.encode(), viewer.csrf_token.encode()):
        raise CsrfRejected
    return Posted(viewer, form)


PostedDep = Annotated[Posted, Depends(checked_post)]


def field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def safe_next(value: str | None) -> str:
    """Only dashboard paths on this host: never an open redirect."""
    if not value or not value.startswith("/dashboard") or value.startswith("//") or "\\" in value:
        return HOME_PATH
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else HOME_PATH


def render(request: Request, template: str, viewer: Viewer | None = None, *, status_code: int = 200,
           headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    page = environment.get_template(template).render(
        request=request, viewer=viewer, account=viewer.account if viewer else None,
        csrf_token=viewer.csrf_token if viewer else "", path=request.url.path, **context)
    return HTMLResponse(page, status_code=status_code, headers=headers)


def redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


def set_session_cookie(response: Response, request: Request, value: str, max_age: int) -> None:
    response.set_cookie(SESSION_COOKIE, value, max_age=max_age, path=COOKIE_PATH, httponly=True,
                        samesite="lax", secure=cookie_secure(settings_of(request).public_url))


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="lax",
                           secure=cookie_secure(settings_of(request).public_url))


def error_page(request: Request, status_code: int, title: str, message: str, *,
               viewer: Viewer | None = None, headers: dict[str, str] | None = None,
               link: tuple[str, str] | None = None) -> HTMLResponse:
    return render(request, "error.html", viewer, status_code=status_code, headers=headers,
                  title=title, message=message, link=link)


TITLES = {400: "That didn't work", 401: "Not signed in", 403: "Refused", 404: "Not found",
          409: "Not possible right now", 429: "Too many attempts", 503: "Zoom is unavailable"}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def security_headers(request: Request, response: Response) -> None:
    zoom = _origin(settings_of(request).zoom_oauth_url)
    # Connect Zoom posts a form that redirects to Zoom's authorize page: form-action allows it.
    response.headers.setdefault("Content-Security-Policy", (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self' {zoom}"))
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # The callback URL holds an authorization code: it must never travel in a Referer.
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cache-Control", "no-store")


class DashboardRoute(APIRoute):
    """Turns the service's typed errors into HTML pages and adds security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            try:
                response = await handle(request)
            except SignInRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                response = redirect(f"{SIGNIN_PATH}?next={quote(target, safe='')}")
                clear_session_cookie(response, request)
            except CsrfRejected:
                response = error_page(
                    request, 403, "Refused: this form is stale or was not sent by the dashboard",
                    "Nothing was changed. Reload the page and try again; if you were signed out, "
                    "sign in again.", link=(SIGNIN_PATH, "Sign in"))
            except ObfError as exc:
                viewer = await _viewer_after_failure(request)
                response = error_page(request, exc.status_code, TITLES.get(exc.status_code, "Error"),
                                      exc.detail, viewer=viewer, headers=exc.headers)
            except RequestValidationError:
                response = error_page(request, 400, TITLES[400], "The request was not valid.")
            security_headers(request, response)
            return response

        return route_handler
