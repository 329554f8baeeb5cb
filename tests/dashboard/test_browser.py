"""The dashboard in a real browser: headless Chromium (Debian's) driven by Playwright against the
real app and the Zoom simulator, both on loopback. These tests also take the screenshots in
docs/img/ (dashboard-<page>.png)."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import pytest

from tests.support.dashboard import Dashboard, Tenant
from tests.support.http import TLS
from tests.support.screenshots import PHONE, check_page, screenshot

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def sign_in(page, dashboard: Dashboard, api_key: str, *, shot: bool = False) -> None:
    page.goto(dashboard.url + "/dashboard/connections")
    expect(page).to_have_url(re.compile(r"/dashboard/signin\?next="))
    expect(page.get_by_role("heading", name="Sign in to the dashboard")).to_be_visible()
    if shot:
        screenshot(page, "signin")
    page.get_by_label("API key").fill(api_key)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(dashboard.url + "/dashboard/connections")


def nav(page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def row_for(page, text: str):
    return page.get_by_role("row").filter(has_text=text)


def test_connect_alice_through_zoom_consent_then_disconnect_her(dashboard: Dashboard, new_page) -> None:
    acme = dashboard.tenant("Acme Meetings", configure=False)
    alice = dashboard.sim.create_user("Alice")
    bob = dashboard.sim.create_user("Bob")
    carol = dashboard.sim.create_user("Carol")
    page = new_page()

    sign_in(page, dashboard, acme.api_key, shot=True)
    expect(page.get_by_role("button", name="Connect Zoom")).to_be_disabled()
    # The keyboard starts at the skip link, and focus is visible.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    # The Zoom app page: set the credentials; the secrets never come back.
    nav(page, "Zoom app")
    page.get_by_label("Client ID").fill(acme.app.client_id)
    page.get_by_label("Client secret").fill(acme.app.client_secret)
    page.get_by_label("Webhook secret token").fill(acme.app.webhook_secret_token)
    page.get_by_role("button", name="Save Zoom app").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    expect(page.get_by_label("Redirect URL for the dashboard's Connect Zoom button")).to_have_value(
        dashboard.callback_url)
    app = acme.api.get("/api/v1/zoom/oauth/app").json()
    expect(page.get_by_label("Event notification endpoint URL")).to_have_value(app["webhook_url"])
    expect(page.get_by_role("button", name=re.compile("^Copy"))).to_have_count(2)
    html = page.content()
    assert acme.app.client_secret not in html and acme.app.webhook_secret_token not in html
    expect(page.locator("#client_secret")).to_have_value("")
    screenshot(page, "zoom-app")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy Redirect URL for the dashboard's Connect Zoom button").click()
    expect(page.locator("#announcer")).to_have_text("Copied to the clipboard")
    assert page.evaluate("navigator.clipboard.readText()") == dashboard.callback_url

    # Others connected through the customer's own callback (the API), for a fuller table.
    dashboard.connect_via_api(acme, bob["id"], {"tenant_user_id": "u_1042", "plan": "team"})
    dashboard.connect_via_api(acme, carol["id"], {"tenant_user_id": "u_2077"})

    # Connect Zoom: the simulator's consent page, as Alice, then back to the dashboard.
    nav(page, "Connections")
    page.get_by_role("button", name="Connect Zoom").click()
    expect(page).to_have_url(re.compile(re.escape(dashboard.sim.url) + r"/oauth/authorize\?"))
    assert "redirect_uri=" + quote(dashboard.callback_url, safe="") in page.url
    page.get_by_label(re.compile(r"^Alice Example")).check()
    page.get_by_role("button", name="Allow").click()
    expect(page).to_have_url(re.compile(re.escape(dashboard.callback_url) + r"\?code=.+&state="))
    expect(page.get_by_role("status").filter(has_text="Connected Alice Example")).to_be_visible()
    expect(row_for(page, alice["email"])).to_contain_text("connected")
    expect(row_for(page, alice["email"])).to_contain_text(alice["id"])
    assert dashboard.connection(acme, alice["id"])["state"] == "connected"  # the API agrees

    # Bots for Alice, so her page has some; one already left its meeting.
    dashboard.bot_for(acme, alice["id"], "Standup notes", leave=True)
    dashboard.bot_for(acme, alice["id"], "Design review")
    page.goto(dashboard.url + "/dashboard/connections")
    expect(page.get_by_role("row")).to_have_count(4)  # header + Alice, Bob, Carol
    screenshot(page, "connections")

    # Search and filter.
    page.get_by_label("Search").fill("bob")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("row")).to_have_count(2)
    expect(row_for(page, bob["email"])).to_be_visible()
    page.get_by_label("Search").fill(alice["id"])
    page.get_by_role("button", name="Search").click()
    expect(row_for(page, alice["email"])).to_be_visible()
    expect(page.get_by_role("row")).to_have_count(2)

    # Phone width: the table turns into labelled cards.
    phone = new_page(PHONE)
    phone.context.add_cookies(page.context.cookies())
    phone.goto(dashboard.url + "/dashboard/connections")
    expect(phone.get_by_role("row").filter(has_text=alice["email"])).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways at phone width ({width}px)"
    screenshot(phone, "connections-phone")

    # Alice's page, then Disconnect with its confirmation step.
    page.get_by_role("link", name="Alice Example").click()
    expect(page).to_have_url(dashboard.url + f"/dashboard/connections/{alice['id']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Alice Example")
    expect(page.get_by_role("heading", name="Recent bots for this user")).to_be_visible()
    expect(row_for(page, "Standup notes")).to_contain_text("ended")
    screenshot(page, "connection")
    expect(page.locator("dt", has_text="Last error").locator("xpath=..")).to_contain_text("—")
    page.get_by_role("button", name="Copy a reconnect link").click()
    expect(page.get_by_role("status").filter(has_text="comes back to this dashboard")).to_be_visible()
    expect(page.locator("#reconnect_url")).to_have_value(
        re.compile(re.escape(dashboard.sim.url) + r"/oauth/authorize\?.*&state="))
    page.get_by_role("link", name="Disconnect…").click()
    expect(page.get_by_role("heading", name="Disconnect Alice Example?")).to_be_visible()
    page.get_by_role("button", name="Yes, disconnect").click()
    expect(page).to_have_url(re.compile(r"/dashboard/connections\?notice=connection_deleted$"))
    expect(page.get_by_role("status").filter(has_text="Disconnected and deleted")).to_be_visible()
    # Deleting erases: Alice is gone from the API and the list, Bob is untouched.
    assert acme.api.get(f"/api/v1/zoom/oauth/connections/{alice['id']}").status_code == 404
    expect(page.get_by_role("row").filter(has_text=alice["email"])).to_have_count(0)
    expect(row_for(page, bob["email"])).to_contain_text("connected")


def test_a_forged_form_post_without_the_csrf_token_is_refused(dashboard: Dashboard, new_page) -> None:
    acme = dashboard.tenant("Acme")
    bob = dashboard.sim.create_user("Bob")
    dashboard.connect_via_api(acme, bob["id"])
    page = new_page()
    sign_in(page, dashboard, acme.api_key)

    # The browser's own cookies ride along (page.request shares the context): only the token lacks.
    forged = [
        (f"/dashboard/connections/{bob['id']}/disconnect", {}),
        (f"/dashboard/connections/{bob['id']}/disconnect", {"csrf_token": "forged"}),
        ("/dashboard/zoom-app", {"client_id": "attacker", "client_secret": "attacker"}),
        ("/dashboard/developers/keys", {"name": "attacker"}),
        ("/dashboard/developers/webhook", {"url": "https://attacker.example/hook"}),
    ]
    for path, form in forged:
        response = page.request.post(dashboard.url + path, form=form, max_redirects=0)
        assert response.status == 403, (path, response.status)
        assert "Refused" in response.text()

    assert dashboard.connection(acme, bob["id"])["state"] == "connected"
    assert acme.api.get("/api/v1/zoom/oauth/app").json()["client_id"] == acme.app.client_id
    assert acme.api.get("/api/v1/webhooks").status_code == 404
    page.goto(dashboard.url + "/dashboard/developers")
    expect(page.get_by_role("cell", name="attacker")).to_have_count(0)
    # The real form, with its token, still works.
    page.goto(dashboard.url + f"/dashboard/connections/{bob['id']}/disconnect")
    page.get_by_role("button", name="Yes, disconnect").click()
    expect(page.get_by_role("status").filter(has_text="Disconnected and deleted")).to_be_visible()


def _scene(dashboard: Dashboard, name: str, people: list[str]) -> tuple[Tenant, list[dict], list[dict]]:
    tenant = dashboard.tenant(name)
    users = [dashboard.sim.create_user(person) for person in people]
    for user in users:
        dashboard.connect_via_api(tenant, user["id"], {"tenant": name})
    bots = [dashboard.bot_for(tenant, users[0]["id"], f"{name} notes", leave=True),
            dashboard.bot_for(tenant, users[-1]["id"], f"{name} recorder")]
    return tenant, users, bots


def test_one_accounts_session_never_shows_anothers_data(dashboard: Dashboard, new_page) -> None:
    acme, acme_users, acme_bots = _scene(dashboard, "Acme", ["Alice", "Dora"])
    globex, globex_users, globex_bots = _scene(dashboard, "Globex", ["Gina", "Hank"])
    page = new_page()
    sign_in(page, dashboard, acme.api_key)

    for user in acme_users:
        expect(row_for(page, user["email"])).to_be_visible()
    for user in globex_users:
        expect(row_for(page, user["email"])).to_have_count(0)
    nav(page, "Bots")
    for bot in acme_bots:
        expect(row_for(page, bot["bot_id"])).to_be_visible()
    for bot in globex_bots:
        expect(row_for(page, bot["bot_id"])).to_have_count(0)
    screenshot(page, "bots")
    page.get_by_role("link", name=acme_bots[0]["bot_id"]).click()
    expect(page.get_by_role("heading", name="Status timeline")).to_be_visible()
    expect(page.get_by_role("list").filter(has_text="queued")).to_contain_text("ended")
    expect(page.locator("dt", has_text="MeetStream status").locator("xpath=..")).to_contain_text("Stopped")
    attempts = page.locator("dt", has_text="Join attempts").locator("xpath=..")
    expect(attempts).to_contain_text("0 tokens minted")
    screenshot(page, "bot")

    # Globex's objects by URL: the same 404 as an id that doesn't exist.
    other = globex_users[0]["id"]
    for path in (f"/dashboard/connections/{other}", f"/dashboard/connections/{other}/disconnect",
                 f"/dashboard/bots/{globex_bots[0]['bot_id']}", "/dashboard/connections/no-such-user"):
        response = page.goto(dashboard.url + path)
        assert response.status == 404, path
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        assert globex_users[0]["email"] not in page.content()
    # A real token of Acme's session can't touch Globex's connection either.
    page.goto(dashboard.url + f"/dashboard/connections/{acme_users[0]['id']}/disconnect")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    response = page.request.post(dashboard.url + f"/dashboard/connections/{other}/disconnect",
                                 form={"csrf_token": token}, max_redirects=0)
    assert response.status == 404
    assert dashboard.connection(globex, other)["state"] == "connected"
    # Searching for Globex's user by id finds nothing.
    page.goto(dashboard.url + f"/dashboard/connections?q={other}")
    expect(page.get_by_text("No connection matches.")).to_be_visible()

    # Globex, signed in elsewhere, sees its own and none of Acme's.
    page2 = new_page()
    sign_in(page2, dashboard, globex.api_key)
    expect(row_for(page2, globex_users[1]["email"])).to_be_visible()
    expect(row_for(page2, acme_users[0]["email"])).to_have_count(0)


def test_developers_keys_once_webhook_deliveries_and_retry(dashboard: Dashboard, new_page, receiver) -> None:
    acme = dashboard.tenant("Acme")
    page = new_page()
    sign_in(page, dashboard, acme.api_key)
    nav(page, "Developers")

    # A new key is shown once and works; the page never shows it again.
    page.get_by_label("New key name").fill("production backend")
    page.get_by_role("button", name="Create API key").click()
    new_key = page.get_by_label("New API key").input_value()
    assert new_key.startswith("obf_live_")
    expect(page.get_by_role("button", name="Copy New API key")).to_be_visible()
    assert dashboard.stack.client(new_key).get("/api/v1/zoom/oauth/app").status_code == 200
    page.goto(dashboard.url + "/dashboard/developers")
    assert new_key not in page.content()

    # The webhook endpoint: the secret is shown once; a failing delivery can be retried.
    receiver.status = 500
    page.get_by_label("Endpoint URL").fill(receiver.url)
    page.get_by_role("button", name="Set endpoint").click()
    secret = page.get_by_label("Signing secret").input_value()
    assert secret.startswith("whsec_")
    bob = dashboard.sim.create_user("Bob")
    dashboard.connect_via_api(acme, bob["id"])  # emits connection.created to the outbox
    dashboard.deliver_webhooks()
    page.goto(dashboard.url + "/dashboard/developers")
    assert secret not in page.content()
    delivery = row_for(page, "connection.")
    expect(delivery).to_contain_text("failed")
    expect(delivery).to_contain_text("500")
    receiver.status = 200
    page.get_by_role("button", name=re.compile("^Retry")).first.click()
    expect(page.get_by_role("status").filter(has_text="Queued again")).to_be_visible()
    dashboard.deliver_webhooks()
    page.goto(dashboard.url + "/dashboard/developers")
    expect(page.get_by_role("row").filter(has_text="succeeded")).to_have_count(1)
    screenshot(page, "developers")

    # Revoke the new key (the confirmation dialog is accepted): the API refuses it from then on.
    page.once("dialog", lambda dialog: dialog.accept())
    row_for(page, "production backend").get_by_role("button", name=re.compile("^Revoke")).click()
    expect(page.get_by_role("status").filter(has_text="API key revoked")).to_be_visible()
    expect(row_for(page, "production backend")).to_contain_text("revoked")
    assert dashboard.stack.client(new_key).get("/api/v1/zoom/oauth/app").status_code == 403

    # Dismissing the confirmation changes nothing; revoking this session's own key signs it out.
    page.goto(dashboard.url + "/dashboard/developers")
    page.get_by_label("New key name").fill("spare")
    page.get_by_role("button", name="Create API key").click()
    page.goto(dashboard.url + "/dashboard/developers")
    page.once("dialog", lambda dialog: dialog.dismiss())
    row_for(page, "(this session)").get_by_role("button", name=re.compile("^Revoke")).click()
    expect(row_for(page, "(this session)")).to_contain_text("active")
    page.once("dialog", lambda dialog: dialog.accept())
    row_for(page, "(this session)").get_by_role("button", name=re.compile("^Revoke")).click()
    expect(page).to_have_url(re.compile(r"/dashboard/signin\?notice=key_revoked"))
    page.goto(dashboard.url + "/dashboard/developers")
    expect(page).to_have_url(re.compile(r"/dashboard/signin"))


def test_a_token_link_is_shown_once_with_copy_buttons_then_revoked(dashboard: Dashboard, new_page) -> None:
    acme = dashboard.tenant("Acme")
    alice = dashboard.sim.create_user("Alice")
    dashboard.connect_via_api(acme, alice["id"])
    meeting = dashboard.sim._ok(dashboard.sim.http.post("/_sim/meetings", json={"host_user_id": alice["id"]}))
    page = new_page()
    sign_in(page, dashboard, acme.api_key)
    page.get_by_role("link", name="Alice Example").click()
    expect(page.get_by_role("heading", name="Token links")).to_be_visible()
    expect(page.get_by_text("No token links for this user yet.")).to_be_visible()

    # The platform secret is asked for, and required, for Attendee only.
    secret = page.get_by_label("Platform secret")
    expect(secret).to_be_hidden()
    page.get_by_label("Platform", exact=True).select_option("attendee")
    expect(secret).to_be_visible()
    expect(secret).to_have_attribute("required", "")
    page.get_by_label("Platform", exact=True).select_option("recall")
    expect(secret).to_be_hidden()
    check_page(page)

    # A Recall.ai link bound to Alice's meeting, for OBF and ZAK tokens, at most 3 uses.
    page.get_by_label("Meeting link").fill(meeting["join_url"])
    page.get_by_label("onbehalf", exact=True).check()
    page.get_by_label("zak", exact=True).check()
    page.get_by_label("Max uses").fill("3")
    page.get_by_role("button", name="Create token link").click()
    expect(page).to_have_url(re.compile(r"/token-links#token-links-title$"))
    expect(page.get_by_role("status").filter(has_text="Recall.ai token link created")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="won't be shown again")).to_be_visible()
    obf = page.get_by_label("OBF token URL").input_value()
    assert obf.startswith(dashboard.settings.public_url + "/token-links/tl_")
    expect(page.get_by_label("ZAK token URL")).to_have_value(re.compile(r"/zak\?key="))
    expect(page.get_by_label("OBF token URL")).to_have_attribute("readonly", "")
    expect(page.get_by_role("button", name=re.compile("^Copy (OBF|ZAK) token URL$"))).to_have_count(2)
    screenshot(page, "token-link-created")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy OBF token URL").click()
    expect(page.locator("#announcer")).to_have_text("Copied to the clipboard")
    assert page.evaluate("navigator.clipboard.readText()") == obf

    # Recall.ai's bot calls it; the page, loaded again, lists the link and never its URLs.
    assert httpx.get(obf.replace(dashboard.settings.public_url, dashboard.url), verify=TLS).status_code == 200
    page.goto(dashboard.url + f"/dashboard/connections/{alice['id']}")
    assert obf not in page.content() and page.get_by_label("OBF token URL").count() == 0
    link_id = obf.split("/token-links/")[1].split("/")[0]
    row = row_for(page, link_id)
    expect(row).to_contain_text("Recall.ai")
    expect(row).to_contain_text(str(meeting["meeting_number"]))
    expect(row).to_contain_text("1 / 3")

    # Phone width: the links table turns into cards too, and nothing scrolls sideways.
    phone = new_page(PHONE)
    phone.context.add_cookies(page.context.cookies())
    phone.goto(dashboard.url + f"/dashboard/connections/{alice['id']}")
    expect(phone.get_by_role("row").filter(has_text=link_id)).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways at phone width ({width}px)"

    # Its page: the call made above; then Revoke, through the confirmation step.
    page.get_by_role("link", name=f"Calls to token link {link_id}").click()
    expect(page.get_by_role("heading", name="Recent calls")).to_be_visible()
    call = row_for(page, str(meeting["meeting_number"]))
    expect(call).to_contain_text("onbehalf")
    expect(call).to_contain_text("minted")
    screenshot(page, "token-link")
    page.get_by_role("link", name="Revoke…").click()
    expect(page.get_by_role("heading", name="Revoke this Recall.ai token link?")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Yes, revoke the link").click()
    expect(page).to_have_url(re.compile(rf"/dashboard/token-links/{link_id}\?notice=revoked$"))
    expect(page.get_by_role("status").filter(has_text="Token link revoked")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("revoked")
    expect(page.get_by_role("link", name="Revoke…")).to_have_count(0)
    assert acme.api.get(f"/api/v1/zoom/token-links/{link_id}").json()["state"] == "revoked"
    assert httpx.get(obf.replace(dashboard.settings.public_url, dashboard.url), verify=TLS).status_code == 410


def test_wrong_key_rate_limit_and_sign_out(dashboard: Dashboard, new_page) -> None:
    acme = dashboard.tenant("Acme")
    page = new_page()
    page.goto(dashboard.url + "/dashboard/bots")
    expect(page).to_have_url(re.compile(r"/dashboard/signin\?next=%2Fdashboard%2Fbots$"))
    page.get_by_label("API key").fill("obf_live_not-a-real-key")
    with page.expect_response(lambda r: r.url.endswith("/dashboard/signin")
                              and r.request.method == "POST") as refused:
        page.get_by_role("button", name="Sign in").click()
    assert refused.value.status == 403, "a key that was sent but is not valid: 403, as the API answers"
    expect(page.get_by_role("alert")).to_contain_text("That API key was received but rejected")

    # Sign in (back to where the browser was going), then sign out: the pages are closed again.
    page.get_by_label("API key").fill(acme.api_key)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(dashboard.url + "/dashboard/bots")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status").filter(has_text="You are signed out.")).to_be_visible()
    page.goto(dashboard.url + "/dashboard/connections")
    expect(page).to_have_url(re.compile(r"/dashboard/signin"))

    # Ten failures in five minutes from one address: the eleventh attempt is refused, even with
    # the right key.
    for _ in range(9):  # one failure above, nine more here
        page.get_by_label("API key").fill("obf_live_wrong")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("rejected")
    page.get_by_label("API key").fill(acme.api_key)
    with page.expect_response(lambda r: r.url.endswith("/dashboard/signin")
                              and r.request.method == "POST") as answer:
        page.get_by_role("button", name="Sign in").click()
    assert answer.value.status == 429
    assert int(answer.value.headers["retry-after"]) > 0
    expect(page.get_by_role("heading", name="Too many failed sign-in attempts")).to_be_visible()
    page.goto(dashboard.url + "/dashboard/connections")
    expect(page).to_have_url(re.compile(r"/dashboard/signin"))
