"""Token links: a link's page with its recent calls, and Revoke with a confirmation step. A
connection's links, and the form that creates one, are on the connection's page
(connection_pages.py); the form is read here.

A link's URLs carry its secret: they are in the answer to the post that created the link and
nowhere else (never a redirect, a query string, a cookie or a later page)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from obfbroker.accounts.models import Account
from obfbroker.dashboard.web import DashboardRoute, PostedDep, ViewerDep, redirect, render
from obfbroker.dashboard.web import field as form_field
from obfbroker.deps import SessionDep, clock_of
from obfbroker.errors import BadRequest, ObfError
from obfbroker.token_links import service as token_links
from obfbroker.token_links.models import LinkKind, Platform, TokenLink, TokenType
from obfbroker.token_links.platforms import link_kinds
from obfbroker.token_links.schemas import MAX_USES, TokenLinkCreate, TokenLinkCreated
from obfbroker.token_links.wiring import token_links_of

router = APIRouter(route_class=DashboardRoute)

LINKS_SHOWN = 20
USES_SHOWN = 50
PLATFORM_NAMES = {Platform.MEETSTREAM: "MeetStream", Platform.RECALL: "Recall.ai",
                  Platform.ATTENDEE: "Attendee", Platform.MEETINGBAAS: "Meeting BaaS"}
TOKEN_TYPES = [t.value for t in TokenType]
URL_LABELS = {LinkKind.OBF: "OBF token URL", LinkKind.ZAK: "ZAK token URL",
              LinkKind.JOIN_TOKEN: "Join token URL", LinkKind.TOKENS: "Tokens URL"}
# Where each URL goes in the platform's create-bot call (docs/platforms.md).
PASTE_INTO = {
    (Platform.MEETSTREAM, LinkKind.OBF): "zoom.obf_url (MeetStream takes one of its two URLs).",
    (Platform.MEETSTREAM, LinkKind.ZAK): "zoom.zak_url (not both), for a bot signed in as the user.",
    (Platform.RECALL, LinkKind.OBF): "zoom.obf_token_url.",
    (Platform.RECALL, LinkKind.ZAK): "zoom.zak_url.",
    (Platform.RECALL, LinkKind.JOIN_TOKEN): "zoom.join_token_url (it mints for meetings this user hosts).",
    (Platform.ATTENDEE, LinkKind.TOKENS): "callback_settings.zoom_tokens_url.",
    (Platform.MEETINGBAAS, LinkKind.OBF): "zoom_config.obf_token_url.",
}
# What a link bound to no meeting needs from its calls (MeetStream and Attendee name theirs).
UNBOUND = {Platform.RECALL: " Not bound to a meeting: add &meeting_id=<meeting number> to the URL.",
           Platform.MEETINGBAAS: " Not bound to a meeting: give the bot extra.meeting_number, or add "
                                 "&meeting_id=<meeting number> to the URL."}
# Which control a refusal is about, by its code (aria-invalid goes there).
ERROR_FIELDS = {"invalid_platform": "platform", "invalid_meeting_link": "meeting_link",
                "meeting_number_required": "meeting_link", "invalid_token_types": "token_types",
                "invalid_expires_at": "expires_at", "invalid_max_uses": "max_uses",
                "platform_secret_required": "platform_secret", "invalid_platform_secret": "platform_secret"}
# The API model's own limits, in the form's words.
FIELD_ERRORS = {
    "platform": ("Platform: choose MeetStream, Recall.ai, Attendee or Meeting BaaS.", "invalid_platform"),
    "meeting_link": ("Meeting link: at most 2048 characters.", "invalid_meeting_link"),
    "token_types": ("Token types: choose among onbehalf, zak and local_recording.", "invalid_token_types"),
    "max_uses": (f"Max uses: a whole number from 1 to {MAX_USES:,}.", "invalid_max_uses"),
    "platform_secret": ("Platform secret: at most 200 characters.", "invalid_platform_secret"),
}
NOTICES = {"revoked": "Token link revoked: its URLs answer 410 token_link_revoked from now on. "
                      "It stays listed here, with its calls."}


@dataclass(frozen=True)
class LinkForm:
    """What the create form shows: what was typed (never the platform secret), and an error."""

    platform: str = Platform.MEETSTREAM.value
    meeting_link: str = ""
    token_types: list[str] = field(default_factory=list)
    expires_at: str = ""
    max_uses: str = ""
    error: str | None = None
    error_field: str | None = None

    @classmethod
    def read(cls, form: FormData) -> LinkForm:
        return cls(platform=form_field(form, "platform"), meeting_link=form_field(form, "meeting_link"),
                   token_types=[v for v in form.getlist("token_types") if isinstance(v, str)],
                   expires_at=form_field(form, "expires_at"), max_uses=form_field(form, "max_uses"))

    def refused(self, err: ObfError) -> LinkForm:
        return replace(self, error=err.detail, error_field=ERROR_FIELDS.get(err.code))

    def request(self, zoom_user_id: str, platform_secret: str) -> TokenLinkCreate:
        """The API's create body for this form; BadRequest says what is wrong in the form's words.
        No token type checked means the platform's default (token_types left out)."""
        try:
            return TokenLinkCreate(
                zoom_user_id=zoom_user_id, platform=self.platform, meeting_link=self.meeting_link or None,
                token_types=self.token_types or None, expires_at=_expiry(self.expires_at),
                max_uses=_max_uses(self.max_uses), platform_secret=platform_secret or None)
        except ValidationError as err:
            where = str(err.errors()[0]["loc"][0])
            message, code = FIELD_ERRORS.get(where, ("The form was not valid.", "invalid_request"))
            raise BadRequest(message, code=code) from None


def _expiry(text: str) -> datetime | None:
    """The form's date and time, in UTC unless it names an offset."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest("Expires at: enter a date and time in UTC, such as 2030-01-31T17:00.",
                         code="invalid_expires_at") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _max_uses(text: str) -> int | None:
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise BadRequest(FIELD_ERRORS["max_uses"][0], code="invalid_max_uses")
    return int(text)


@dataclass(frozen=True)
class CreatedUrl:
    kind: str
    label: str
    url: str
    hint: str


def created_urls(created: TokenLinkCreated) -> list[CreatedUrl]:
    """The new link's URLs, each with where it goes: rendered once, in the creation's answer."""
    platform = Platform(created.platform)
    unbound = "" if created.meeting_number else UNBOUND.get(platform, "")
    return [CreatedUrl(kind.value, URL_LABELS[kind], url,
                       f"In {PLATFORM_NAMES[platform]}'s create-bot call: {PASTE_INTO[(platform, kind)]}"
                       + (unbound if kind != LinkKind.ZAK else ""))
            for kind, url in created.urls.items()]


async def links_context(request: Request, session: AsyncSession, account: Account, zoom_user_id: str, *,
                        cursor: str | None) -> dict[str, Any]:
    """The connection page's token-links table: one page of the user's links, newest first."""
    rows, next_cursor = await token_links.list_page(session, token_links_of(request), account,
                                                    zoom_user_id=zoom_user_id, platform=None,
                                                    limit=LINKS_SHOWN, cursor=cursor)
    now = clock_of(request).now()
    return {"token_links": [token_links.link_read(link, now) for link in rows], "links_cursor": cursor,
            "links_next_cursor": next_cursor}


def form_context(link_form: LinkForm | None = None,
                 created: TokenLinkCreated | None = None) -> dict[str, Any]:
    return {"link_form": link_form or LinkForm(), "created_link": created,
            "created_urls": created_urls(created) if created else [], "platforms": PLATFORM_NAMES,
            "token_types": TOKEN_TYPES, "max_link_uses": MAX_USES}


def _connection_path(link: TokenLink) -> str | None:
    """The link's connection page, while the connection exists (erasing it revokes the link)."""
    return f"/dashboard/connections/{quote(link.zoom_user_id, safe='')}" if link.connection_id else None


@router.get("/token-links/{link_id}")
async def token_link_page(request: Request, viewer: ViewerDep, session: SessionDep, link_id: str,
                          cursor: Annotated[str | None, Query(max_length=400)] = None,
                          notice: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    link = await token_links.get(session, token_links_of(request), viewer.account, link_id)
    uses, next_cursor = await token_links.uses_page(session, token_links_of(request), viewer.account, link_id,
                                                    limit=USES_SHOWN, cursor=cursor)
    now = clock_of(request).now()
    return render(request, "token_link.html", viewer, link=token_links.link_read(link, now),
                  kinds=link_kinds(Platform(link.platform), link.token_types),
                  connection_path=_connection_path(link), platforms=PLATFORM_NAMES,
                  uses=[token_links.use_read(use) for use in uses], cursor=cursor, next_cursor=next_cursor,
                  notice=NOTICES.get(notice or ""))


@router.get("/token-links/{link_id}/revoke")
async def confirm_revoke(request: Request, viewer: ViewerDep, session: SessionDep, link_id: str) -> Response:
    link = await token_links.get(session, token_links_of(request), viewer.account, link_id)
    if link.revoked_at is not None:
        return redirect(f"/dashboard/token-links/{link.id}")
    return render(request, "token_link_revoke.html", viewer,
                  link=token_links.link_read(link, clock_of(request).now()),
                  back=_connection_path(link) or f"/dashboard/token-links/{link.id}",
                  platforms=PLATFORM_NAMES)


@router.post("/token-links/{link_id}/revoke")
async def revoke(request: Request, posted: PostedDep, session: SessionDep, link_id: str) -> Response:
    link = await token_links.revoke(session, token_links_of(request), posted.viewer.account, link_id)
    return redirect(f"/dashboard/token-links/{link.id}?notice=revoked")
