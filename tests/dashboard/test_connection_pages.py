"""The connection pages over plain HTTP: why a connection is disconnected, its last error and the
next step; reconnect links through the API's reconnect-url service (and back through the
dashboard's own callback); Delete erasing the connection."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from markupsafe import escape

from tests.support.bot_scenes import expire_stored_access_token
from tests.support.dashboard import Dashboard, csrf_of, mint_zak, row_of
from tests.support.sim import REDIRECT_URI

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

RECONNECT_FIELD = re.compile(r'id="reconnect_url" type="text" value="([^"]+)"')


def reconnect_link_of(page: str) -> httpx.URL:
    match = RECONNECT_FIELD.search(page)
    assert match, "no reconnect link on the page"
    return httpx.URL(html.unescape(match.group(1)))


def test_list_and_page_say_why_what_failed_and_what_next(dashboard: Dashboard) -> None:
    acme = dashboard.tenant("Acme")
    alice, bob = dashboard.sim.create_user("Alice"), dashboard.sim.create_user("Bob")
    for user in (alice, bob):
        dashboard.connect_via_api(acme, user["id"])
    # Bob's refresh meets Zoom down: still connected, with the error. Alice's grant is revoked.
    expire_stored_access_token(dashboard.stack, acme.account_id, bob["id"])
    dashboard.sim.faults(rate_5xx=1.0)
    try:
        mint_zak(dashboard, acme, bob["id"])
    finally:
        dashboard.sim.faults(rate_5xx=0.0)
    dashboard.sim.revoke_user(alice["id"])
    mint_zak(dashboard, acme, alice["id"])
    dead, flaky = dashboard.connection(acme, alice["id"]), dashboard.connection(acme, bob["id"])
    assert dead["reconnect_hint"] and flaky["last_error"]["code"] == "zoom_unavailable"

    session = dashboard.sign_in(acme.api_key)
    listed = session.get("/dashboard/connections").text
    alice_row, bob_row = row_of(listed, alice["email"]), row_of(listed, bob["email"])
    assert "refresh token invalid" in alice_row and str(escape(dead["reconnect_hint"])) in alice_row
    assert "<code>refresh_token_invalid</code>" in alice_row
    assert "<code>zoom_unavailable</code>" in bob_row and "<time datetime=" in bob_row
    assert str(escape(flaky["last_error"]["message"]))[:60] in bob_row

    page = session.get(f"/dashboard/connections/{alice['id']}").text
    assert f"<strong>What next:</strong> {escape(dead['reconnect_hint'])}" in page
    assert "<dt>Reason</dt><dd>refresh token invalid</dd>" in page
    assert "<code>refresh_token_invalid</code>" in page and str(escape(dead["last_error"]["message"])) in page
    assert ">Delete…</a>" in page, "a disconnected connection can still be deleted"
    page = session.get(f"/dashboard/connections/{bob['id']}").text
    assert "What next:" not in page and "<code>zoom_unavailable</code>" in page
    assert ">Disconnect…</a>" in page


def test_a_reconnect_link_comes_back_to_the_dashboard_for_that_user_only(dashboard: Dashboard) -> None:
    acme = dashboard.tenant("Acme")
    alice, bob = dashboard.sim.create_user("Alice"), dashboard.sim.create_user("Bob")
    before = dashboard.connect_via_api(acme, alice["id"], {"tenant_user_id": "u_1"})
    session = dashboard.sign_in(acme.api_key)
    page = session.get(f"/dashboard/connections/{alice['id']}").text
    assert f'maxlength="2048" value="{dashboard.callback_url}"' in page, "the dashboard's own callback"
    path = f"/dashboard/connections/{alice['id']}/reconnect-link"

    made = session.post(path, data={"csrf_token": csrf_of(page), "redirect_uri": dashboard.callback_url})
    assert made.status_code == 200, made.text
    assert "comes back to this dashboard" in made.text
    link = reconnect_link_of(made.text)
    assert str(link).startswith(f"{dashboard.sim.url}/oauth/authorize?")
    assert link.params["redirect_uri"] == dashboard.callback_url
    state = link.params["state"]

    # Bob, through Alice's link: refused, nothing stored for him.
    code = dashboard.sim.authorize(acme.app, bob["id"], redirect_uri=dashboard.callback_url)
    refused = session.get("/dashboard/zoom/callback", params={"code": code, "state": state})
    assert refused.status_code == 409 and bob["id"] in refused.text and alice["id"] in refused.text
    assert acme.api.get(f"/api/v1/zoom/oauth/connections/{bob['id']}").status_code == 404
    # Alice herself: her connection again, same metadata and creation time.
    code = dashboard.sim.authorize(acme.app, alice["id"], redirect_uri=dashboard.callback_url)
    back = session.get("/dashboard/zoom/callback", params={"code": code, "state": state})
    assert back.status_code == 200 and "Connected Alice Example" in back.text
    after = dashboard.connection(acme, alice["id"])
    assert (after["created_at"], after["metadata"]) == (before["created_at"], before["metadata"])

    # To the customer's own callback: a generated state, and no dashboard-only caveat.
    own = session.post(path, data={"csrf_token": csrf_of(page), "redirect_uri": REDIRECT_URI})
    assert own.status_code == 200 and "comes back to this dashboard" not in own.text
    link = reconnect_link_of(own.text)
    assert link.params["redirect_uri"] == REDIRECT_URI and link.params["state"].startswith("obfrc_")
    assert f"state: {link.params['state']}" in own.text

    bad = session.post(path, data={"csrf_token": csrf_of(page), "redirect_uri": "http://customer.example/cb"})
    assert bad.status_code == 400 and 'role="alert">redirect_uri must use https' in bad.text
    assert 'aria-invalid="true"' in bad.text and 'value="http://customer.example/cb"' in bad.text
    assert RECONNECT_FIELD.search(bad.text) is None
    missing = session.post("/dashboard/connections/nobody123/reconnect-link",
                           data={"csrf_token": csrf_of(page), "redirect_uri": REDIRECT_URI})
    assert missing.status_code == 404


def test_delete_erases_the_connection_and_says_so(dashboard: Dashboard) -> None:
    acme = dashboard.tenant("Acme")
    alice, bob, carol = (dashboard.sim.create_user(name) for name in ("Alice", "Bob", "Carol"))
    for user in (alice, bob, carol):
        dashboard.connect_via_api(acme, user["id"], {"tenant_user_id": user["id"]})
    bot = dashboard.bot_for(acme, alice["id"], leave=True)
    session = dashboard.sign_in(acme.api_key)

    confirm = session.get(f"/dashboard/connections/{alice['id']}/disconnect").text
    assert "Disconnect Alice Example?" in confirm and "Yes, disconnect and erase" in confirm
    assert "revokes the grant at Zoom and erases the connection" in confirm
    done = session.post(f"/dashboard/connections/{alice['id']}/disconnect",
                        data={"csrf_token": csrf_of(confirm)})
    assert done.status_code == 303
    assert done.headers["location"] == "/dashboard/connections?notice=connection_deleted"
    listed = session.get(done.headers["location"]).text
    assert "Disconnected and deleted the Zoom user" in listed and "connection erased" in listed
    assert alice["email"] not in listed and bob["email"] in listed, "the row is gone from the list"
    assert session.get(f"/dashboard/connections/{alice['id']}").status_code == 404
    assert acme.api.get(f"/api/v1/zoom/oauth/connections/{alice['id']}").status_code == 404
    assert session.get(f"/dashboard/bots/{bot['bot_id']}").status_code == 200, "bots keep their history"
    # A crafted link can't put words in the dashboard's mouth: notices are ours, named by key.
    for crafted in (f"deleted={bob['id']}", "notice=Your+account+is+suspended", "notice=<b>x</b>"):
        page = session.get(f"/dashboard/connections?{crafted}")
        assert page.status_code == 200 and '<div class="notice"' not in page.text, crafted
        assert "suspended" not in page.text and bob["id"] not in page.text.split("<table")[0]

    # A connection Zoom already revoked is deleted the same way (nothing left to revoke).
    dashboard.sim.revoke_user(carol["id"])
    mint_zak(dashboard, acme, carol["id"])
    confirm = session.get(f"/dashboard/connections/{carol['id']}/disconnect").text
    assert "Delete Carol Example?" in confirm and "Yes, delete and erase" in confirm
    assert "revokes the grant" not in confirm
    done = session.post(f"/dashboard/connections/{carol['id']}/disconnect",
                        data={"csrf_token": csrf_of(confirm)})
    assert done.status_code == 303 and carol["email"] not in session.get(done.headers["location"]).text
