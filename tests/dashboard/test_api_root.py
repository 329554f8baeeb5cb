"""The API's root, `/`: a browser gets a page in the dashboard's look (its stylesheet, its security
headers) that says what this server is and links to the dashboard, the API reference and health;
an API client gets the same links as JSON. Every link answers, no key needed, and `/` stays out
of the OpenAPI document."""

from __future__ import annotations

import pytest

from obfbroker import __version__
from tests.support.html_pages import PageOutline
from tests.support.stack import Stack

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
LINKS = {"dashboard": "/dashboard", "docs": "/docs", "redoc": "/redoc", "openapi": "/openapi.json",
         "healthz": "/healthz", "readyz": "/readyz"}


def test_an_api_client_gets_the_links_as_json(stack: Stack) -> None:
    with stack.client() as client:
        for accept in ("*/*", "application/json", ""):
            response = client.get("/", headers={"Accept": accept})
            assert response.status_code == 200, accept
            assert response.headers["content-type"] == "application/json"
            assert response.headers["vary"] == "Accept"
            assert response.json() == {"name": "obfbroker", "version": __version__, "links": LINKS}
        for path in LINKS.values():
            answer = client.get(path, follow_redirects=True)
            assert answer.status_code == 200, (path, answer.status_code)


def test_a_browser_gets_a_page_in_the_dashboard_look(stack: Stack) -> None:
    with stack.client() as client:
        response = client.get("/", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = PageOutline.of(response.text)
    assert page.title == "Start here · obfbroker"
    assert '<link rel="stylesheet" href="/dashboard/static/dashboard.css">' in response.text
    assert set(LINKS.values()) <= set(page.links)
    assert "Authorization: Token <api_key>" in page.text and "/api/v1" in page.text
    headers = response.headers
    assert headers["content-security-policy"].startswith("default-src 'self'; script-src 'self'")
    assert (headers["x-frame-options"], headers["x-content-type-options"]) == ("DENY", "nosniff")
    assert (headers["referrer-policy"], headers["vary"]) == ("no-referrer", "Accept")


def test_the_root_is_not_in_the_openapi_document(stack: Stack) -> None:
    with stack.client() as client:
        assert "/" not in client.get("/openapi.json").json()["paths"]


def test_in_a_browser_the_page_is_styled_and_leads_to_the_dashboard(stack: Stack, new_page) -> None:
    from playwright.sync_api import expect

    page = new_page()
    page.add_init_script("window.cspViolations = []; document.addEventListener("
                         "'securitypolicyviolation', (e) => window.cspViolations.push(e.blockedURI));")
    assert page.goto(stack.url + "/").status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text(f"obfbroker {__version__}")
    expect(page.locator("main")).to_have_count(1)
    # The dashboard's stylesheet applied: its panels have a border.
    assert page.locator(".panel").evaluate("el => getComputedStyle(el).borderTopStyle") == "solid"
    page.get_by_role("link", name="/dashboard", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in to the dashboard")).to_be_visible()
    assert page.evaluate("window.cspViolations") == []
