"""The dashboard's session cookie, CSRF and OAuth state checks, over plain HTTP (no browser)."""

from __future__ import annotations

import re
from datetime import timedelta
from http.cookies import SimpleCookie

import httpx
import pytest

from obfbroker.dashboard.routes import PAGES
from obfbroker.dashboard.security import SESSION_COOKIE, Signer
from tests.support.dashboard import Dashboard, csrf_of, key_id_named, serve_dashboard
from tests.support.stack import Stack

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def set_cookie_headers(response: httpx.Response, name: str) -> list[str]:
    return [value for value in response.headers.get_list("set-cookie") if value.startswith(f"{name}=")]


def sign_in_response(dashboard: Dashboard, client: httpx.Client, api_key: str) -> httpx.Response:
    page = client.get("/dashboard/signin")
    return client.post("/dashboard/signin", data={"api_key": api_key, "csrf_token": csrf_of(page.text)})


def test_session_cookie_is_httponly_samesite_lax_and_not_secure_on_localhost(dashboard: Dashboard) -> None:
    acme = dashboard.tenant("Acme")
    with dashboard.browserless() as client:
        response = sign_in_response(dashboard, client, acme.api_key)
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/connections"
    [header] = set_cookie_headers(response, SESSION_COOKIE)
    attributes = [part.strip().lower() for part in header.split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/dashboard" in attributes
    assert "max-age=43200" in attributes  # 12 hours
    assert "secure" not in attributes
    cookie = SimpleCookie(header)[SESSION_COOKIE].value
    assert acme.api_key not in cookie and "." in cookie


def test_session_cookie_is_secure_when_the_public_url_is_not_localhost_http(database_url, sim) -> None:
    settings, server = serve_dashboard(database_url, sim, public_url="https://obf.example.com")
    with server as url:
        dashboard = Dashboard(url, settings, sim, Stack(url=url, settings=settings, sim=sim))
        acme = dashboard.tenant("Acme")
        with dashboard.browserless() as client:
            page = client.get("/dashboard/signin")
            # httpx keeps Secure cookies for https only: hand the sign-in form's cookie back by hand.
            [login] = set_cookie_headers(page, "obf_dashboard_login")
            assert "secure" in [part.strip().lower() for part in login.split(";")]
            client.cookies.clear()
            response = client.post("/dashboard/signin", data={
                "api_key": acme.api_key, "csrf_token": csrf_of(page.text)},
                headers={"Cookie": login.split(";")[0]})
    assert response.status_code == 303
    [header] = set_cookie_headers(response, SESSION_COOKIE)
    assert "secure" in [part.strip().lower() for part in header.split(";")]


def test_pages_need_a_session_and_say_where_to_come_back(dashboard: Dashboard) -> None:
    with dashboard.browserless() as client:
        for path in ("/dashboard/connections", "/dashboard/bots?status=queued", "/dashboard/zoom-app",
                     "/dashboard/developers", "/dashboard/zoom/callback?code=x&state=y"):
            response = client.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/dashboard/signin?next=%2Fdashboard%2F")
        assert client.get("/dashboard").headers["location"] == "/dashboard/connections"


def test_tampered_expired_and_revoked_sessions_end(dashboard: Dashboard) -> None:
    acme = dashboard.tenant("Acme")
    client = dashboard.sign_in(acme.api_key)
    assert client.get("/dashboard/connections").status_code == 200
    cookie = client.cookies.get(SESSION_COOKIE)

    def with_cookie(value: str) -> httpx.Response:
        with dashboard.browserless() as other:
            other.cookies.set(SESSION_COOKIE, value, domain="127.0.0.1", path="/dashboard")
            return other.get("/dashboard/connections")

    body, mac = cookie.split(".")
    assert with_cookie(f"{body}.{mac[:-2]}AA").status_code == 303
    assert with_cookie(f"{body[:-2]}AA.{mac}").status_code == 303

    # A cookie signed correctly but past its 12 hours.
    async def expired(runtime):
        from obfbroker.accounts.service import authenticate_key

        async with runtime.sessions() as session:
            key, account = await authenticate_key(session, runtime.hasher, api_key=acme.api_key)
        signer = Signer(runtime.hasher)
        old, _ = signer.new_session(account_id=account.id, key_id=key.id,
                                    now=runtime.clock.now() - timedelta(hours=12, seconds=5))
        fresh, _ = signer.new_session(account_id=account.id, key_id=key.id, now=runtime.clock.now())
        return old, fresh

    old, fresh = dashboard.run(expired)
    assert with_cookie(old).status_code == 303
    assert with_cookie(fresh).status_code == 200

    # Revoking the key a session is bound to ends that session (here through another session).
    spare = dashboard.sign_in(acme.api_key)
    created = spare.post("/dashboard/developers/keys", data={
        "name": "second", "csrf_token": csrf_of(spare.get("/dashboard/developers").text)})
    assert created.status_code == 201
    second_key = re.search(r'value="(obf_live_[^"]+)"', created.text).group(1)
    second = dashboard.sign_in(second_key)
    assert second.get("/dashboard/connections").status_code == 200
    page = spare.get("/dashboard/developers").text
    second_id = key_id_named(page, "second")
    revoked = spare.post(f"/dashboard/developers/keys/{second_id}/revoke", data={"csrf_token": csrf_of(page)})
    assert revoked.status_code == 303
    response = second.get("/dashboard/connections")
    assert response.status_code == 303 and response.headers["location"].startswith("/dashboard/signin")
    assert client.get("/dashboard/connections").status_code == 200  # the other key's session lives on


def test_every_form_post_without_a_valid_csrf_token_is_refused_and_changes_nothing(
        dashboard: Dashboard) -> None:
    acme = dashboard.tenant("Acme")
    bob = dashboard.sim.create_user("Bob")
    assert acme.api.put("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"}).status_code == 200
    dashboard.connect_via_api(acme, bob["id"])
    dashboard.deliver_webhooks()
    message_id = acme.api.get("/api/v1/webhooks/deliveries").json()["deliveries"][0]["message_id"]
    link = acme.api.post("/api/v1/zoom/token-links", json={"zoom_user_id": bob["id"], "platform": "recall"})
    assert link.status_code == 201, link.text
    session = dashboard.sign_in(acme.api_key)
    developers = session.get("/dashboard/developers").text
    key_id = re.search(r'/dashboard/developers/keys/(key_[0-9a-f]+)/revoke', developers).group(1)
    other_session = dashboard.sign_in(dashboard.tenant("Globex").api_key)
    foreign_token = csrf_of(other_session.get("/dashboard/connections").text)
    own_token = csrf_of(developers)

    def snapshot() -> tuple:
        return (acme.api.get(f"/api/v1/zoom/oauth/connections/{bob['id']}").json(),
                acme.api.get("/api/v1/zoom/oauth/app").json(), acme.api.get("/api/v1/webhooks").json(),
                acme.api.get("/api/v1/webhooks/deliveries").json(),
                acme.api.get("/api/v1/zoom/token-links").json(), developers.count("Revoke"))

    before = snapshot()
    ids = {"zoom_user_id": bob["id"], "key_id": key_id, "message_id": message_id,
           "link_id": link.json()["id"]}
    posts = ["/dashboard" + route.path.format(**ids) for pages in PAGES for route in pages.router.routes
             if "POST" in route.methods and route.path != "/signin"]
    assert len(posts) >= 11, posts
    fields = {"client_id": "attacker", "client_secret": "attacker", "url": "https://attacker.example/h",
              "name": "attacker", "platform": "meetstream"}
    for path in posts:
        for token in (None, "", "forged", foreign_token, own_token[:-1]):
            data = dict(fields) if token is None else {**fields, "csrf_token": token}
            response = session.post(path, data=data)
            assert response.status_code == 403, (path, token, response.status_code)
        with dashboard.browserless() as anonymous:  # no session at all
            assert anonymous.post(path, data={**fields, "csrf_token": own_token}).status_code == 403
    after = snapshot()
    assert after[:5] == before[:5]
    assert session.get("/dashboard/developers").text.count("Revoke") == before[5]
    assert session.get("/dashboard/connections").status_code == 200  # still signed in
    # Sign-in itself needs the token of its form.
    with dashboard.browserless() as client:
        client.get("/dashboard/signin")
        assert client.post("/dashboard/signin", data={"api_key": acme.api_key}).status_code == 403
        assert client.post("/dashboard/signin", data={"api_key": acme.api_key,
                                                      "csrf_token": "forged"}).status_code == 403


def test_sign_in_never_redirects_off_the_dashboard(dashboard: Dashboard) -> None:
    acme = dashboard.tenant("Acme")
    for target, expected in (("https://evil.example/", "/dashboard/connections"),
                             ("//evil.example/dashboard", "/dashboard/connections"),
                             ("/dashboard/bots?status=queued", "/dashboard/bots?status=queued"),
                             ("/api/v1/bots", "/dashboard/connections")):
        with dashboard.browserless() as client:
            page = client.get("/dashboard/signin", params={"next": target})
            response = client.post("/dashboard/signin", data={
                "api_key": acme.api_key, "csrf_token": csrf_of(page.text), "next": target})
            assert response.headers["location"] == expected, target


def test_zoom_callback_checks_state_is_this_sessions(dashboard: Dashboard) -> None:
    acme = dashboard.tenant("Acme")
    alice = dashboard.sim.create_user("Alice")
    mine = dashboard.sign_in(acme.api_key)
    theirs = dashboard.sign_in(acme.api_key)  # another browser of the same account
    start = theirs.post("/dashboard/zoom/connect",
                        data={"csrf_token": csrf_of(theirs.get("/dashboard/connections").text)})
    assert start.status_code == 303
    state = httpx.URL(start.headers["location"]).params["state"]
    code = dashboard.sim.authorize(acme.app, alice["id"], redirect_uri=dashboard.callback_url)
    for params in ({"code": code, "state": state}, {"code": code}, {"code": code, "state": state + "x"}):
        response = mine.get("/dashboard/zoom/callback", params=params)
        assert response.status_code == 400
        assert "Nothing was connected" in response.text
    assert acme.api.get("/api/v1/zoom/oauth/connections").json()["connections"] == []
    # In the session that started it, the same callback connects Alice.
    response = theirs.get("/dashboard/zoom/callback", params={"code": code, "state": state})
    assert response.status_code == 200, response.text
    assert "Connected Alice Example" in response.text
    # A denial at Zoom reads as one.
    denied = theirs.get("/dashboard/zoom/callback", params={"error": "access_denied", "state": state})
    assert denied.status_code == 400 and "chose Deny" in denied.text


def test_connect_zoom_without_an_app_and_a_rejected_code_read_as_errors(dashboard: Dashboard) -> None:
    bare = dashboard.tenant("Bare", configure=False)
    session = dashboard.sign_in(bare.api_key)
    response = session.post("/dashboard/zoom/connect",
                            data={"csrf_token": csrf_of(session.get("/dashboard/connections").text)})
    assert response.status_code == 400
    assert "Set up your Zoom app first" in response.text

    acme = dashboard.tenant("Acme")
    session = dashboard.sign_in(acme.api_key)
    start = session.post("/dashboard/zoom/connect",
                         data={"csrf_token": csrf_of(session.get("/dashboard/connections").text)})
    state = httpx.URL(start.headers["location"]).params["state"]
    response = session.get("/dashboard/zoom/callback", params={"code": "simcode_bogus", "state": state})
    assert response.status_code == 400
    assert "Zoom rejected the authorization code" in response.text


def test_secrets_are_write_only_and_pages_carry_security_headers(dashboard: Dashboard) -> None:
    acme = dashboard.tenant("Acme")
    session = dashboard.sign_in(acme.api_key)
    page = session.get("/dashboard/zoom-app")
    assert page.status_code == 200
    assert acme.app.client_secret not in page.text and acme.app.webhook_secret_token not in page.text
    assert acme.app.client_id in page.text
    assert f"{dashboard.url}/dashboard/zoom/callback" in page.text
    for scope in ("user:read:user", "user:read:token", "user:read:zak"):
        assert scope in page.text
    headers = page.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert f"form-action 'self' {dashboard.sim.url}" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    # A bad save says why and keeps what was stored.
    saved = session.post("/dashboard/zoom-app", data={"csrf_token": csrf_of(page.text),
                                                      "client_id": "has space", "client_secret": ""})
    assert saved.status_code == 400
    assert "Nothing was saved" in saved.text and "Client ID:" in saved.text
    assert acme.api.get("/api/v1/zoom/oauth/app").json()["client_id"] == acme.app.client_id
    missing = session.get("/dashboard/no-such-page")
    assert missing.status_code == 404 and "Not found" in missing.text
