"""The simulator's API reference, /_sim/docs (Swagger UI) and /_sim/redoc (ReDoc), linked from its
root page, render in headless Chromium with every request off the simulator aborted: they load the
same vendored files as the API's /docs, under /_sim, and show the simulator's own operations."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.support.browser import chromium


def test_the_simulators_docs_render_offline_from_its_own_files(base_url, http):
    operations = http.get("/_sim/openapi.json").json()["paths"]
    assert "/_sim/meetings" in operations
    with chromium() as browser:
        page = browser.new_page()
        server = urlsplit(base_url).netloc
        outside: list[str] = []

        def guard(route) -> None:
            if urlsplit(route.request.url).netloc != server:
                outside.append(route.request.url)
                route.abort("internetdisconnected")
            else:
                route.continue_()

        page.route("**/*", guard)
        answer = page.goto(f"{base_url}/_sim/docs")
        assert answer.status == 200 and "script-src 'self'" in answer.headers["content-security-policy"]
        page.locator(".opblock-summary-path[data-path='/_sim/meetings']").first.wait_for()
        assert page.locator(".opblock").count() >= len(operations)

        answer = page.goto(f"{base_url}/_sim/redoc")
        assert answer.status == 200
        page.get_by_text("obfbroker Zoom simulator").first.wait_for()
        page.locator("[data-section-id^='operation/']").first.wait_for(state="attached")
        assert outside == [], outside
        page.close()
