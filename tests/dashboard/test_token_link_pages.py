"""A connection's token links over plain HTTP: the create form (each field, the platforms'
defaults, Attendee's secret), its URLs shown once and never again, a refused form storing
nothing, the link page with the calls made to its URLs, Revoke behind its confirmation and the
CSRF token, and another account's links answering 404."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from markupsafe import escape

from tests.support.dashboard import Dashboard, Tenant, csrf_of, mint_zak, row_of
from tests.support.http import TLS
from tests.support.token_links import LINKS, attendee_secret

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

URL_FIELD = re.compile(r'id="token_link_url_(\w+)" type="text" value="([^"]+)"')
LINK_IDS = re.compile(r'href="/dashboard/token-links/(tl_[0-9A-Za-z]+)"')
DEFAULTS = {
    "meetstream": (["onbehalf", "zak"], {"obf", "zak"}),
    "recall": (["onbehalf", "zak", "local_recording"], {"obf", "zak", "join_token"}),
    "attendee": (["onbehalf", "local_recording"], {"tokens"}),
    "meetingbaas": (["onbehalf"], {"obf"}),
}


def page_of(user_id: str) -> str:
    return f"/dashboard/connections/{user_id}"


def new_meeting(dashboard: Dashboard, host_user_id: str) -> dict[str, Any]:
    return dashboard.sim._ok(dashboard.sim.http.post("/_sim/meetings", json={"host_user_id": host_user_id}))


def urls_of(page: str) -> dict[str, str]:
    return {kind: html.unescape(url) for kind, url in URL_FIELD.findall(page)}


def key_of(url: str) -> str:
    (key,) = parse_qs(urlsplit(url).query)["key"]
    return key


def links_of(tenant: Tenant) -> list[dict[str, Any]]:
    response = tenant.api.get(LINKS)
    assert response.status_code == 200, response.text
    return response.json()["token_links"]


def create(session: httpx.Client, user_id: str, **form: Any) -> httpx.Response:
    """The connection page's create form, posted with the page's CSRF token."""
    token = csrf_of(session.get(page_of(user_id)).text)
    return session.post(f"{page_of(user_id)}/token-links", data={"csrf_token": token, **form})


def call(dashboard: Dashboard, url: str, **kwargs: Any) -> httpx.Response:
    """What a platform's bot does: the link's URL, pointed at the test server."""
    return httpx.get(url.replace(dashboard.settings.public_url, dashboard.url), verify=TLS, timeout=30,
                     **kwargs)


def control(page: str, control_id: str) -> str:
    """The opening tag of the form control with this id."""
    match = re.search(rf'<(?:input|select)[^>]*\bid="{control_id}"[^>]*>', page)
    assert match, f"no control {control_id}"
    return match.group(0)


def test_create_with_each_field_and_the_urls_are_shown_once_only(dashboard: Dashboard) -> None:
    acme = dashboard.tenant("Acme")
    alice = dashboard.sim.create_user("Alice")
    dashboard.connect_via_api(acme, alice["id"])
    meeting = new_meeting(dashboard, alice["id"])
    session = dashboard.sign_in(acme.api_key)
    page = session.get(page_of(alice["id"])).text
    assert "No token links for this user yet." in page and ">Create token link</button>" in page
    assert 'data-shown-for="platform:attendee"' in page and 'value="meetstream" selected' in page

    expires = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    made = create(session, alice["id"], platform="recall", meeting_link=meeting["join_url"],
                  token_types=["onbehalf", "zak"], expires_at=expires.strftime("%Y-%m-%dT%H:%M"),
                  max_uses="5", platform_secret="")
    assert made.status_code == 201, made.text
    assert "Recall.ai token link created." in made.text and "won't be shown again" in made.text
    urls = urls_of(made.text)
    assert set(urls) == {"obf", "zak"}
    (link,) = links_of(acme)
    assert link["platform"] == "recall" and link["meeting_number"] == str(meeting["meeting_number"])
    assert link["meeting_link"] == meeting["join_url"] and link["token_types"] == ["onbehalf", "zak"]
    assert datetime.fromisoformat(link["expires_at"]) == expires and link["max_uses"] == 5
    assert (link["state"], link["uses"], link["has_platform_secret"]) == ("active", 0, False)
    for kind, url in urls.items():
        assert url.startswith(f"{dashboard.settings.public_url}/token-links/{link['id']}/{kind}?key=")
        assert f'Copy<span class="visually-hidden"> {"OBF" if kind == "obf" else "ZAK"} token URL</span>' \
            in made.text
    key = key_of(urls["obf"])
    assert len(key) >= 43 and key_of(urls["zak"]) == key, "one 256-bit secret"
    # The answer is the page itself: no redirect, no cookie, no query string carries the URLs.
    assert "location" not in made.headers and key not in str(made.headers.raw)
    assert made.headers["cache-control"] == "no-store"
    row = row_of(made.text, f'href="/dashboard/token-links/{link["id"]}"')
    for shown in ("Recall.ai", f"<code>{meeting['meeting_number']}</code>", "badge-active", "0 / 5",
                  "<code>onbehalf</code>, <code>zak</code>", "Revoke…"):
        assert shown in row, shown
    assert key not in row

    # No token type checked: the platform's default, and the URLs of those types only.
    secret = attendee_secret()
    for platform, (types, kinds) in DEFAULTS.items():
        made = create(session, alice["id"], platform=platform,
                      **({"platform_secret": secret} if platform == "attendee" else {}))
        assert made.status_code == 201, (platform, made.text)
        newest = links_of(acme)[0]
        assert (newest["platform"], newest["token_types"]) == (platform, types)
        assert set(urls_of(made.text)) == kinds and newest["meeting_number"] is None
        assert "any meeting" in row_of(made.text, f'href="/dashboard/token-links/{newest["id"]}"')
        assert secret not in made.text, "the platform secret is write-only"
        if platform == "attendee":
            assert newest["has_platform_secret"] is True
    assert len(links_of(acme)) == 5

    # Never again: not on the next load of any page, not on the link's own pages.
    keys = {key} | {key_of(url) for url in urls_of(made.text).values()}
    later = [page_of(alice["id"]), "/dashboard/connections", f"/dashboard/token-links/{link['id']}",
             f"/dashboard/token-links/{link['id']}/revoke", "/dashboard/bots", "/dashboard/developers"]
    for path in later:
        response = session.get(path)
        assert response.status_code == 200, path
        assert 'id="token_link_url_' not in response.text, path
        assert f"{dashboard.settings.public_url}/token-links/" not in response.text, path
        assert not any(k in response.text or k in str(response.headers.raw) for k in keys), path
    assert not any(k in c.value for c in session.cookies.jar for k in keys)


def test_a_refused_form_says_why_keeps_what_was_typed_and_stores_nothing(dashboard: Dashboard) -> None:
    acme = dashboard.tenant("Acme")
    alice, bob = dashboard.sim.create_user("Alice"), dashboard.sim.create_user("Bob")
    for user in (alice, bob):
        dashboard.connect_via_api(acme, user["id"])
    session = dashboard.sign_in(acme.api_key)
    secret = attendee_secret()
    past = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    cases = [
        ({"platform": "attendee", "meeting_link": "https://zoom.us/j/34363334431?pwd=abc"},
         "platform_secret is required for attendee links", "platform_secret"),
        ({"platform": "attendee", "platform_secret": "not base64!"}, "base64", "platform_secret"),
        ({"platform": "attendee", "platform_secret": "c2hvcnQ="}, "decode to 32 bytes", "platform_secret"),
        ({"platform": "recall", "platform_secret": secret}, "for attendee links only", "platform_secret"),
        ({"platform": "attendee", "platform_secret": secret, "token_types": ["zak"]}, "must allow onbehalf",
         "token_type_onbehalf"),
        ({"platform": "meetingbaas", "token_types": ["onbehalf", "zak"]}, "cannot mint zak",
         "token_type_zak"),
        ({"platform": "recall", "token_types": ["bogus"]}, "Token types: choose among", "token_type_zak"),
        ({"platform": "recall", "meeting_link": "https://zoom.us/my/alice"},
         "must include the meeting number", "meeting_link"),
        ({"platform": "recall", "meeting_link": "https://meet.google.com/abc-defg-hij"}, "Zoom meeting URL",
         "meeting_link"),
        ({"platform": "recall", "expires_at": past}, "expires_at must be in the future", "expires_at"),
        ({"platform": "recall", "expires_at": "tomorrow"}, "Expires at: enter a date and time", "expires_at"),
        ({"platform": "recall", "max_uses": "0"}, "Max uses: a whole number from 1", "max_uses"),
        ({"platform": "recall", "max_uses": "lots"}, "Max uses: a whole number from 1", "max_uses"),
        ({"platform": "recall", "max_uses": "1000001"}, "Max uses: a whole number from 1", "max_uses"),
        ({"platform": "teams"}, "Platform: choose", "platform"),
    ]
    for form, words, invalid in cases:
        refused = create(session, alice["id"], **form)
        assert refused.status_code == 400, (form, refused.status_code)
        text = html.unescape(refused.text)
        assert re.search(r'role="alert" id="token-link-error">Nothing was created: [^<]*' + re.escape(words),
                         text), (form, words)
        assert 'aria-invalid="true"' in control(refused.text, invalid), (form, invalid)
        assert "token-link-error" in control(refused.text, invalid) or invalid.startswith("token_type")
        assert not urls_of(refused.text) and "token link created" not in refused.text
        # What was typed is kept, except the platform secret (write-only).
        for name in ("meeting_link", "expires_at", "max_uses"):
            if form.get(name):
                assert f'value="{escape(form[name])}"' in control(refused.text, name), name
        if form["platform"] != "teams":
            assert f'value="{form["platform"]}" selected' in refused.text
        for token_type in form.get("token_types", []):
            if token_type != "bogus":
                assert " checked" in control(refused.text, f"token_type_{token_type}")
        assert secret not in refused.text and 'id="platform_secret" name="platform_secret" type="password"' \
            in refused.text and "value=" not in control(refused.text, "platform_secret")
    assert links_of(acme) == [], "no refused form stored a link"

    # A disconnected user: no form, and a post made anyway is refused with Zoom's reason.
    dashboard.sim.revoke_user(bob["id"])
    mint_zak(dashboard, acme, bob["id"])
    page = session.get(page_of(bob["id"])).text
    assert "Only a connected user gets new links" in page and ">Create token link</button>" not in page
    refused = create(session, bob["id"], platform="recall")
    assert refused.status_code == 400 and "is disconnected" in refused.text
    assert links_of(acme) == []
    # And a good form after all that works.
    assert create(session, alice["id"], platform="attendee", platform_secret=secret).status_code == 201
    assert len(links_of(acme)) == 1


def test_the_link_page_shows_the_calls_to_its_urls_and_revoke_needs_the_csrf_token(
        dashboard: Dashboard) -> None:
    acme = dashboard.tenant("Acme")
    alice = dashboard.sim.create_user("Alice")
    dashboard.connect_via_api(acme, alice["id"])
    meeting = new_meeting(dashboard, alice["id"])
    number = str(meeting["meeting_number"])
    response = acme.api.post(LINKS, json={
        "zoom_user_id": alice["id"], "platform": "recall", "meeting_link": meeting["join_url"],
        "token_types": ["onbehalf", "zak"], "metadata": {"team": "notes"}})
    assert response.status_code == 201, response.text
    link = response.json()
    key = key_of(link["urls"]["obf"])
    session = dashboard.sign_in(acme.api_key)
    page = session.get(f"/dashboard/token-links/{link['id']}")
    assert page.status_code == 200 and "No calls yet." in page.text

    # Calls as Recall.ai's bot makes them: two minted, one refused (another meeting).
    assert call(dashboard, link["urls"]["obf"]).status_code == 200
    assert call(dashboard, link["urls"]["zak"]).status_code == 200
    wrong = call(dashboard, link["urls"]["obf"] + "&meeting_id=99999999999")
    assert wrong.status_code == 403 and wrong.json()["code"] == "meeting_mismatch"
    page = session.get(f"/dashboard/token-links/{link['id']}").text
    assert "<h1>Recall.ai token link" in page and "badge-active" in page and "2 of no limit" in page
    assert f"<code>{number}</code>" in page and "<code>obf</code>, <code>zak</code>" in page
    assert "&#34;team&#34;: &#34;notes&#34;" in page, "the link's metadata"
    calls = page.split('<table class="data responsive">')[1].split("<tbody>")[1].split("<tr>")[1:]
    assert len(calls) == 3
    newest, zak, obf = calls
    assert "badge-refused" in newest and "<code>meeting_mismatch</code>" in newest and "99999999999" in newest
    assert "badge-minted" in zak and '<td data-label="Asked for"><code>zak</code>' in zak
    assert "badge-minted" in obf and '<td data-label="Minted"><code>onbehalf</code>' in obf and number in obf
    assert key not in page and f"{dashboard.settings.public_url}/token-links/" not in page
    row = row_of(session.get(page_of(alice["id"])).text, f'href="/dashboard/token-links/{link["id"]}"')
    assert '"Uses">2 / <span class="muted">no limit' in row and '"Last used"><time datetime=' in row

    # Revoke: a confirmation step, then a post that needs this session's CSRF token.
    confirm = session.get(f"/dashboard/token-links/{link['id']}/revoke")
    assert confirm.status_code == 200 and "Revoke this Recall.ai token link?" in confirm.text
    assert f'href="{page_of(alice["id"])}">Cancel</a>' in confirm.text
    other = dashboard.sign_in(dashboard.tenant("Globex").api_key)
    foreign = csrf_of(other.get("/dashboard/connections").text)
    for form in ({}, {"csrf_token": "forged"}, {"csrf_token": foreign}):
        refused = session.post(f"/dashboard/token-links/{link['id']}/revoke", data=form)
        assert refused.status_code == 403 and "Refused" in refused.text
    assert acme.api.get(f"{LINKS}/{link['id']}").json()["state"] == "active"
    assert call(dashboard, link["urls"]["zak"]).status_code == 200, "the link still works"

    done = session.post(f"/dashboard/token-links/{link['id']}/revoke",
                        data={"csrf_token": csrf_of(confirm.text)})
    assert done.status_code == 303
    assert done.headers["location"] == f"/dashboard/token-links/{link['id']}?notice=revoked"
    page = session.get(done.headers["location"]).text
    assert "Token link revoked: its URLs answer 410" in page and "badge-revoked" in page
    assert f"/dashboard/token-links/{link['id']}/revoke" not in page
    assert acme.api.get(f"{LINKS}/{link['id']}").json()["state"] == "revoked"
    gone = call(dashboard, link["urls"]["obf"])
    assert gone.status_code == 410 and gone.json()["code"] == "token_link_revoked"
    again = session.get(f"/dashboard/token-links/{link['id']}/revoke")
    assert again.status_code == 303 and again.headers["location"] == f"/dashboard/token-links/{link['id']}"
    row = row_of(session.get(page_of(alice["id"])).text, f'href="/dashboard/token-links/{link["id"]}"')
    assert "badge-revoked" in row and "Revoke…" not in row
    # Crafted notices are not ours: nothing is shown.
    crafted = session.get(f"/dashboard/token-links/{link['id']}", params={"notice": "Your link is fine"})
    assert crafted.status_code == 200 and '<div class="notice"' not in crafted.text

    # Deleting the connection revokes its links; each keeps its page and its calls.
    live = acme.api.post(LINKS, json={"zoom_user_id": alice["id"], "platform": "meetingbaas"}).json()
    confirm = session.get(f"{page_of(alice['id'])}/disconnect").text
    assert session.post(f"{page_of(alice['id'])}/disconnect",
                        data={"csrf_token": csrf_of(confirm)}).status_code == 303
    for link_id in (link["id"], live["id"]):
        page = session.get(f"/dashboard/token-links/{link_id}").text
        assert "badge-revoked" in page and "(connection deleted)" in page
        assert f'href="{page_of(alice["id"])}"' not in page, "no link to a page that is gone"
    assert "its connection was deleted" in page and "Revoke…" not in page


def test_another_accounts_links_are_not_found_and_untouched(dashboard: Dashboard) -> None:
    acme, globex = dashboard.tenant("Acme"), dashboard.tenant("Globex")
    alice, gina = dashboard.sim.create_user("Alice"), dashboard.sim.create_user("Gina")
    dashboard.connect_via_api(acme, alice["id"])
    dashboard.connect_via_api(globex, gina["id"])
    theirs = globex.api.post(LINKS, json={"zoom_user_id": gina["id"], "platform": "meetstream"}).json()
    session = dashboard.sign_in(acme.api_key)
    token = csrf_of(session.get(page_of(alice["id"])).text)

    for path in (f"/dashboard/token-links/{theirs['id']}", f"/dashboard/token-links/{theirs['id']}/revoke",
                 "/dashboard/token-links/tl_0000000000000000", f"{page_of(gina['id'])}"):
        response = session.get(path)
        assert response.status_code == 404, path
        assert "Not found" in response.text and gina["email"] not in response.text
    revoke = session.post(f"/dashboard/token-links/{theirs['id']}/revoke", data={"csrf_token": token})
    assert revoke.status_code == 404
    made = session.post(f"{page_of(gina['id'])}/token-links",
                        data={"csrf_token": token, "platform": "recall"})
    assert made.status_code == 404 and not urls_of(made.text)
    assert [link["state"] for link in links_of(globex)] == ["active"] and links_of(acme) == []
    assert theirs["id"] not in session.get(page_of(alice["id"])).text


def test_a_users_links_come_in_pages(dashboard: Dashboard) -> None:
    acme = dashboard.tenant("Acme")
    alice, bob = dashboard.sim.create_user("Alice"), dashboard.sim.create_user("Bob")
    for user in (alice, bob):
        dashboard.connect_via_api(acme, user["id"])
    made = [acme.api.post(LINKS, json={"zoom_user_id": alice["id"], "platform": "meetingbaas"}).json()["id"]
            for _ in range(21)]
    bobs = acme.api.post(LINKS, json={"zoom_user_id": bob["id"], "platform": "recall"}).json()["id"]
    session = dashboard.sign_in(acme.api_key)
    first = session.get(page_of(alice["id"])).text
    shown = list(dict.fromkeys(LINK_IDS.findall(first)))
    assert shown == made[::-1][:20], "the newest 20, newest first"
    older = re.search(r'href="([^"]+links_cursor=[^"]+)" rel="next">Older links', first)
    assert older and bobs not in first
    second = session.get(html.unescape(older.group(1)).split("#")[0]).text
    assert list(dict.fromkeys(LINK_IDS.findall(second))) == [made[0]]
    assert "Newest links" in second and "Older links" not in second
    for path in (f"{page_of(alice['id'])}?links_cursor=nope",
                 f"/dashboard/token-links/{made[0]}?cursor=nope"):
        bad = session.get(path)
        assert bad.status_code == 400 and "cursor is not valid" in bad.text, path
