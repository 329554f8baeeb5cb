"""/docs (Swagger UI) and /redoc (ReDoc) in headless Chromium with the network cut off: every
request that is not to the server on loopback is aborted, and none may be attempted. The pages
load only files shipped in the package (src/obfbroker/api_docs/static/) and render every
operation of the OpenAPI document. (Beside test_browser.py for the browser fixtures in conftest.py.)"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.stack import Stack

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
RECORD_CSP_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation",
  (event) => window.cspViolations.push(event.effectiveDirective + " " + event.blockedURI));
"""


def expect(target):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def operation_ids(stack: Stack) -> dict[tuple[str, str], str]:
    """(method, path) -> operationId of every operation in the live document."""
    with stack.client() as client:
        spec = client.get("/openapi.json").json()
    return {(method, path): operation["operationId"] for path, item in spec["paths"].items()
            for method, operation in item.items() if method in HTTP_METHODS}


def offline_page(new_page, stack: Stack) -> tuple[Any, list[str]]:
    """A page whose every request off the server is aborted, and the list of the requests it
    attempted elsewhere (including any its CSP refused before they reached the network)."""
    page = new_page()
    server = urlsplit(stack.url).netloc
    outside: list[str] = []

    def off_server(url: str) -> bool:
        return urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != server

    def guard(route) -> None:
        if off_server(route.request.url):
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.on("request", lambda request: outside.append(request.url) if off_server(request.url) else None)
    page.context.route("**/*", guard)
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    return page, outside


def test_swagger_ui_renders_every_operation_offline(stack: Stack, new_page) -> None:
    page, outside = offline_page(new_page, stack)
    answer = page.goto(stack.url + "/docs")
    assert answer.status == 200
    assert "script-src 'self' 'sha256-" in answer.headers["content-security-policy"]

    create_bot = page.locator(".opblock-post").filter(
        has=page.locator(".opblock-summary-path[data-path='/api/v1/bots/create_bot']"))
    expect(create_bot).to_be_visible()
    expect(page.locator(".opblock")).to_have_count(len(operation_ids(stack)))
    create_bot.locator(".opblock-summary").first.click()  # expands: the request body's schema shows
    expect(create_bot.locator(".opblock-body")).to_contain_text("meeting_link")
    # "Try it out" calls the server from the page: the CSP lets it (connect-src 'self').
    healthz = page.locator(".opblock-get").filter(
        has=page.locator(".opblock-summary-path[data-path='/healthz']"))
    healthz.locator(".opblock-summary").first.click()
    healthz.get_by_role("button", name="Try it out").click()
    healthz.get_by_role("button", name="Execute").click()
    status = healthz.locator(".live-responses-table td.response-col_status:not(.col_header)")
    expect(status).to_have_text("200")
    assert outside == []
    assert page.evaluate("window.cspViolations") == []


def test_redoc_renders_every_operation_offline(stack: Stack, new_page) -> None:
    page, outside = offline_page(new_page, stack)
    answer = page.goto(stack.url + "/redoc")
    assert answer.status == 200
    assert "fonts.googleapis.com" not in page.content()
    with stack.client() as client:  # only the listed assets are served from the package
        assert client.get("/docs/static/README.md").status_code == 404
        assert client.get("/docs/static/redoc.standalone.js").headers["content-type"].startswith(
            "text/javascript")

    operations = operation_ids(stack)
    expect(page.locator("[data-section-id^='operation/']")).to_have_count(len(operations))
    create_bot_id = operations[("post", "/api/v1/bots/create_bot")]
    create_bot = page.locator(f"[data-section-id='operation/{create_bot_id}']")
    expect(create_bot.locator(".http-verb")).to_have_text("post")
    expect(create_bot).to_contain_text("/api/v1/bots/create_bot")
    expect(create_bot).to_contain_text("meeting_link")
    assert outside == []
    assert page.evaluate("window.cspViolations") == []
