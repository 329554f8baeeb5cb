"""Every URL the `make run` banner prints for a person to open is a real page: the real
`obfbroker dev` on free ports, its banner parsed from stdout, each URL opened in headless
Chromium: status 200, a title, and every link on the page that leads into the stack answers.

Which URLs are opened: every one printed outside a curl command and served by the stack (the
API root, /docs, /dashboard, the simulator root, the example app). The meeting links name
zoom.us, as Zoom's do (obfbroker accepts only those), and are given to the API, not opened: the
simulator's page must show each of those meetings instead. URLs inside curl commands are POST
targets; a GET on the simulator's one shows who is in the meeting, which is checked too."""

from __future__ import annotations

from urllib.parse import urldefrag, urlsplit

from tests.support.browser import chromium
from tests.support.dev_stack import banner_urls, running_dev


def test_every_url_the_banner_prints_opens_as_a_page_whose_links_work(tmp_path):
    with running_dev(tmp_path, stderr=tmp_path / "dev-stderr.log") as dev:
        example = f"http://127.0.0.1:{dev.example_port}"
        stack = {urlsplit(url).netloc for url in (dev.api_url, dev.sim_url, example)}
        pages, commands = banner_urls(dev.banner)
        to_open = [url for url in pages if urlsplit(url).netloc in stack]
        meetings = [url for url in pages if url not in to_open]
        assert to_open == [dev.api_url, f"{dev.api_url}/docs", f"{dev.api_url}/dashboard", dev.sim_url,
                           example], dev.banner
        assert len(meetings) == 3 and all(urlsplit(url).netloc == "zoom.us" for url in meetings), meetings

        with chromium() as browser:
            context = browser.new_context()
            context.set_default_timeout(15_000)
            # Offline, as `make run` is: nothing leaves the stack.
            context.route("**/*", lambda route: route.continue_() if urlsplit(route.request.url).netloc
                          in stack else route.abort("internetdisconnected"))
            checked: dict[str, int] = {}
            for url in to_open:
                page = context.new_page()
                response = page.goto(url)
                assert response is not None and response.status == 200, (url, response and response.status)
                page.wait_for_load_state("networkidle")  # /docs renders its links from the document
                assert page.title().strip(), f"{url} has no title"
                links = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
                for link in dict.fromkeys(urldefrag(link).url for link in links):
                    if urlsplit(link).netloc in stack and link not in checked:
                        checked[link] = context.request.get(link).status
                page.close()
            broken = {link: status for link, status in checked.items() if status >= 400}
            assert not broken, broken
            assert f"{dev.sim_url}/_sim/meetings" in checked and f"{dev.api_url}/docs" in checked

            # Each meeting of the banner is on the simulator's page, with its host in it.
            overview = context.new_page()
            overview.goto(dev.sim_url)
            for name, url in zip(("Alice", "Bob", "Carol"), meetings, strict=True):
                number = urlsplit(url).path.rsplit("/", 1)[1]
                row = overview.locator(f"#meeting-{number}")
                assert f"{name} Example" in row.inner_text(), number

            # The curl commands' targets: create_bot on the API, a participant joining on the
            # simulator, where a GET shows who is in the meeting.
            assert [urlsplit(url).netloc for url in commands if url not in meetings] == [
                urlsplit(dev.api_url).netloc, urlsplit(dev.sim_url).netloc], commands
            participants = commands[-1]
            assert participants.endswith("/participants")
            answer = context.request.get(participants)
            assert answer.status == 200 and answer.json()["participants"] == []
            context.close()
